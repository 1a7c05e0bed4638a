// The online replay on real recorded outcomes (../shared/data): regret in
// hindsight computed exactly, and the self-tuning cascade's figures of issue
// 15 on a stationary stream, warm-started, and across a drift.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/outcome_reader.h"
#include "eval/cascade_calibration.h"
#include "eval/online_report.h"
#include "test_paths.h"

namespace hiro::eval {
namespace {

OnlineSummary run(const core::OutcomeSet& set, const std::vector<std::string>& chain, Feedback feedback, std::size_t orders,
                  std::vector<double> warm = {}, const core::OutcomeSet* drift = nullptr, std::vector<double> fixed = {}) {
    OnlineOptions options;
    options.policy = {"adaptive_cascade", chain, warm, {{"lambda", 0.1}, {"epsilon", 0.1}}};
    options.feedback = feedback;
    options.orders = orders;
    if (!warm.empty()) options.fixed = warm;
    if (!fixed.empty()) options.fixed = fixed;
    return summarize(replay_online(set, drift, options));
}

void expect_regret_falls(const OnlineSummary& s) {
    ASSERT_EQ(s.checkpoints.size(), 4u);
    for (std::size_t i = 1; i < s.checkpoints.size(); ++i) {
        EXPECT_LT(s.checkpoints[i].regret_per_query, s.checkpoints[i - 1].regret_per_query) << "T = " << s.checkpoints[i].queries;
    }
}

TEST(BestFixedThresholds, IsExactOnThreeTiers) {
    const auto set = core::read_outcomes(test::outcome_file("mmlu_llama_train.jsonl"));
    const std::vector<std::string> chain{"llama3.2-3b", "llama3.1-70b", "llama3.1-405b"};
    std::vector<ChainRow> rows;
    std::vector<double> c0{std::numeric_limits<double>::infinity()}, c1 = c0;
    for (const auto& r : set.records) {
        ChainRow row;
        for (const auto& m : chain) {
            const auto& o = r.models[set.model_index(m)];
            row.confidence.push_back(*o.confidence);
            row.correct.push_back(o.correct);
            row.cost.push_back(0.0);
        }
        c0.push_back(row.confidence[0]);
        c1.push_back(row.confidence[1]);
        rows.push_back(row);
    }
    std::vector<const ChainRow*> view;
    for (const auto& r : rows) view.push_back(&r);
    double brute = std::numeric_limits<double>::infinity();
    for (double a : c0) {
        for (double b : c1) {
            const std::vector<double> t{a, b};
            double loss = 0.0;
            for (const auto& r : rows) loss += cascade_loss(r, t, 0.1);
            brute = std::min(brute, loss);
        }
    }
    const FixedThresholds best = best_fixed_thresholds(view, 0.1);
    EXPECT_NEAR(best.loss, brute, 1e-9);
    double check = 0.0;
    for (const auto& r : rows) check += cascade_loss(r, best.thresholds, 0.1);
    EXPECT_NEAR(check, best.loss, 1e-9);
}

TEST(OnlineReplay, TwoTiersStationaryFullFeedbackIsWithin5PercentOfHindsight) {
    const auto set = core::read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    const auto s = run(set, {"llama3.1-8b", "llama3.1-405b"}, Feedback::full, 20);
    expect_regret_falls(s);
    EXPECT_LE(s.loss, 1.05 * s.best_fixed);
}

TEST(OnlineReplay, TwoTiersStationaryRealisticFeedbackIsWithin10PercentAndPaysForVerification) {
    const auto set = core::read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    const auto s = run(set, {"llama3.1-8b", "llama3.1-405b"}, Feedback::realistic, 20);
    expect_regret_falls(s);
    EXPECT_LE(s.loss, 1.10 * s.best_fixed);
    EXPECT_GT(s.verified_share, 0.0);
    EXPECT_GT(s.verification_per_1k, 0.0);
}

TEST(OnlineReplay, ThreeTiersStationary) {
    const auto set = core::read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    const std::vector<std::string> chain{"llama3.2-3b", "llama3.1-70b", "llama3.1-405b"};
    const auto full = run(set, chain, Feedback::full, 20);
    expect_regret_falls(full);
    EXPECT_LE(full.loss, 1.05 * full.best_fixed);
    const auto realistic = run(set, chain, Feedback::realistic, 20);
    expect_regret_falls(realistic);
    EXPECT_LE(realistic.loss, 1.10 * realistic.best_fixed);
}

TEST(OnlineReplay, WarmStartFromTrainCostsAtMostOnePercentOverKeepingItFixed) {
    const auto train = core::read_outcomes(test::outcome_file("mmlu_llama_train.jsonl"));
    const auto test = core::read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    const std::vector<std::string> chain{"llama3.1-8b", "llama3.1-405b"};
    const auto fitted = calibrate_cascade(train, chain, parse_target("strong-0.01"), CalibrationOptions{});
    for (Feedback feedback : {Feedback::full, Feedback::realistic}) {
        const auto s = run(test, chain, feedback, 20, fitted.thresholds);
        ASSERT_TRUE(s.fixed.has_value());
        EXPECT_LE(s.loss, 1.01 * *s.fixed) << to_string(feedback);
    }
}

TEST(OnlineReplay, AfterTheWeakModelDegradesItFollowsTheNewRegime) {
    const auto train = core::read_outcomes(test::outcome_file("mmlu_llama_train.jsonl"));
    const auto test = core::read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    const std::vector<std::string> chain{"llama3.1-8b", "llama3.1-405b"};
    // Started cold; compared with the thresholds of least loss on train.
    const auto degraded = degrade_model(test, chain[0], 0.4, 0);
    const auto s = run(test, chain, Feedback::realistic, 20, {}, &degraded, fit_fixed_thresholds(train, chain, 0.1));
    ASSERT_TRUE(s.after_switch.has_value());
    const auto& a = *s.after_switch;
    EXPECT_EQ(a.queries, test.size());
    EXPECT_LE(a.loss, 1.10 * a.best_fixed);
    ASSERT_TRUE(a.fixed.has_value());
    EXPECT_GT(*a.fixed, 1.2 * a.best_fixed);  // the train-fixed thresholds are far worse
    ASSERT_TRUE(a.within_10pct.has_value());
    EXPECT_LT(*a.within_10pct, a.queries / 4);
}

TEST(DegradeModel, TurnsTheGivenShareOfCorrectAnswersWrongAndNothingElse) {
    const auto set = core::read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    const auto d = degrade_model(set, "llama3.1-8b", 0.4, 0);
    const std::size_t m = set.model_index("llama3.1-8b"), strong = set.model_index("llama3.1-405b");
    std::size_t was = 0, now = 0;
    for (std::size_t r = 0; r < set.size(); ++r) {
        was += set.records[r].models[m].correct;
        now += d.records[r].models[m].correct;
        EXPECT_TRUE(!d.records[r].models[m].correct || set.records[r].models[m].correct);
        EXPECT_EQ(d.records[r].models[m].confidence, set.records[r].models[m].confidence);
        EXPECT_EQ(d.records[r].models[strong].correct, set.records[r].models[strong].correct);
    }
    EXPECT_EQ(was - now, static_cast<std::size_t>(std::llround(0.4 * static_cast<double>(was))));
}

}  // namespace
}  // namespace hiro::eval
