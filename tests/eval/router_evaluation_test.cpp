// Honest held-out evaluation: folds, fitting only on train rows, calibration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/outcome_reader.h"
#include "eval/cascade_calibration.h"
#include "eval/cross_validation.h"
#include "eval/replay.h"
#include "eval/router_evaluation.h"
#include "eval/router_training.h"
#include "policy/registry.h"
#include "test_paths.h"

namespace hiro::eval {
namespace {

using ::testing::HasSubstr;

TEST(StratifiedFolds, AreSeededDisjointEvenAndKeepTheMix) {
    const auto set = core::read_outcomes(test::outcome_file("gsm8k_routellm.jsonl"));
    const auto folds = stratified_folds(set, 5, 42);
    std::vector<int> seen(set.size(), 0);
    for (const auto& f : folds) {
        EXPECT_EQ(f.train.size() + f.test.size(), set.size());
        EXPECT_NEAR(static_cast<double>(f.test.size()), set.size() / 5.0, 1.0);
        for (std::size_t r : f.test) ++seen[r];
        // Each fold's accuracy of the strong model is close to the file's.
        EXPECT_NEAR(subset(set, f.test).accuracy(1), set.accuracy(1), 0.01);
    }
    for (int s : seen) EXPECT_EQ(s, 1);  // every row is tested exactly once
    EXPECT_EQ(stratified_folds(set, 5, 42)[0].test, folds[0].test);
    EXPECT_NE(stratified_folds(set, 5, 43)[0].test, folds[0].test);
    EXPECT_THROW(stratified_folds(set, 1, 0), core::Error);
}

TEST(OutOfFoldPredictions, NoTestRowReachesFitting) {
    const auto set = core::read_outcomes(test::outcome_file("mmlu_llama_train.jsonl"));
    const auto folds = stratified_folds(set, 5, 0);
    std::size_t fold = 0;
    const auto p = out_of_fold_predictions(set, folds, [&](const core::OutcomeSet& train, const core::OutcomeSet& test) {
        std::set<std::string> fitted, tested;
        for (const auto& r : train.records) fitted.insert(r.id);
        for (const auto& r : test.records) tested.insert(r.id);
        for (const auto& id : tested) EXPECT_FALSE(fitted.contains(id)) << "test row " << id << " reached fitting in fold " << fold;
        EXPECT_EQ(fitted.size() + tested.size(), set.size());
        ++fold;
        RouterTrainOptions options;
        options.tiers = {"llama3.1-8b", "llama3.1-405b"};
        return predict_quality(*train_router(train, options), test);
    });
    EXPECT_EQ(fold, 5u);
    EXPECT_EQ(p.size(), set.size());
    for (const auto& row : p) EXPECT_EQ(row.size(), 2u);
}

// RouteLLM's yardsticks: a router that cannot tell queries apart is the
// random router (APGR 0.5, CPT(x) = x); one that knows which queries the weak
// model fails recovers the whole gap after calling the strong model on those.
TEST(RouterMetrics, KnowTheirExtremes) {
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file("gsm8k_routellm.jsonl"));
    const std::size_t weak = set.model_index("mistralai/Mixtral-8x7B-Instruct-v0.1"), strong = set.model_index("gpt-4-1106-preview");
    const RouterMetrics blind = router_metrics(set, weak, strong, std::vector<double>(set.size(), 0.0));
    EXPECT_NEAR(blind.apgr, 0.5, 1e-9);
    EXPECT_NEAR(blind.cpt50, 0.5, 1e-9);
    EXPECT_NEAR(blind.cpt80, 0.8, 1e-9);
    // Escalate first where only the strong model is right, last where only the weak one is.
    std::vector<double> oracle;
    std::size_t gains = 0;
    for (const auto& r : set.records) {
        const bool w = r.models[weak].correct, s = r.models[strong].correct;
        oracle.push_back(!w && s ? 0.0 : (w && !s ? 2.0 : 1.0));
        gains += !w && s;
    }
    const RouterMetrics best = router_metrics(set, weak, strong, oracle);
    EXPECT_GT(best.apgr, 0.9);
    EXPECT_LE(best.cpt80, static_cast<double>(gains) / static_cast<double>(set.size()) + 1e-9);
    EXPECT_LT(best.cpt50, best.cpt80);
}

TEST(RouterTraining, WritesAPolicyThatReplaysLikeItsModel) {
    const auto train = core::read_outcomes(test::outcome_file("triviaqa_llama_train.jsonl"));
    const auto test = core::read_outcomes(test::outcome_file("triviaqa_llama_test.jsonl"));
    RouterTrainOptions options;
    options.tiers = {"llama3.2-3b", "llama3.1-70b", "llama3.1-405b"};
    const auto model = train_router(train, options);
    EXPECT_NEAR(model->tier_cost().back(), 1.0, 1e-12);
    EXPECT_LT(model->tier_cost().front(), 0.1);
    const auto p = predict_quality(*model, test);
    // lambda 0 sends each query to the tier it expects to be best; a huge lambda to the cheapest.
    const auto curve = utility_curve(test, options.tiers, p, model->tier_cost());
    EXPECT_NEAR(curve.back().accuracy, test.accuracy(test.model_index("llama3.2-3b")), 1e-12);
    EXPECT_NEAR(curve.back().share[0], 1.0, 1e-12);
    const ReplayResult at_zero = replay(*policy::make_policy(router_spec(*model, options.tiers, 0.0)), test);
    EXPECT_NEAR(at_zero.accuracy, curve.front().accuracy, 1e-12);
    EXPECT_GT(at_zero.accuracy, test.accuracy(test.model_index("llama3.2-3b")) + 0.2);
}

TEST(RouterTraining, PolicyFileRecordsWhatItWasTrainedOn) {
    const auto train = core::read_outcomes(test::outcome_file("triviaqa_llama_train.jsonl"));
    RouterTrainOptions options;
    options.tiers = {"llama3.1-8b", "llama3.1-405b"};
    const auto model = train_router(train, options);
    const nlohmann::json j = router_spec(*model, options.tiers, 0.0);
    const auto& training = j.at("model").at("training");
    EXPECT_EQ(training.at("data"), train.source);
    EXPECT_EQ(training.at("queries"), train.size());
    ASSERT_EQ(training.at("prompt_hashes").size(), train.size());
    EXPECT_EQ(training.at("prompt_hashes")[0].get<std::uint32_t>(), prompt_fingerprint(train.records[0].prompt));
    // The extra field does not stop the policy from loading.
    EXPECT_NO_THROW(policy::make_policy(j.get<policy::PolicySpec>()));
}

TEST(CascadeCalibration, MeetsEachKindOfTargetOnTrain) {
    const auto train = core::read_outcomes(test::outcome_file("triviaqa_llama_train.jsonl"));
    const std::vector<std::string> chain{"llama3.2-3b", "llama3.1-8b", "llama3.1-70b", "llama3.1-405b"};
    const double strong = train.accuracy(train.model_index("llama3.1-405b"));
    CalibrationOptions options;
    options.method = SearchMethod::empirical;
    for (const std::string target : {"strong-0.01", "accuracy>=0.9", "cost<=0.5", "escalation<=0.2"}) {
        const CalibrationTarget t = parse_target(target);
        const auto c = calibrate_cascade(train, chain, t, options);
        ASSERT_TRUE(c.target_met) << target;
        const auto r = replay(*policy::make_policy({"cascade", chain, c.thresholds, {}}), train);
        EXPECT_NEAR(r.accuracy, c.accuracy, 1e-12);
        EXPECT_TRUE(meets_target(t, r.accuracy, r.cost_per_query * 1000, r.escalation_rate, strong)) << target;
    }
    // A relative target costs less than the strong model alone.
    const auto c = calibrate_cascade(train, chain, parse_target("strong-0.01"), options);
    EXPECT_LT(c.cost, 0.6 * train.total_cost(train.model_index("llama3.1-405b")));
    // The safety margin and the model both produce valid thresholds too.
    for (auto method : {SearchMethod::bootstrap, SearchMethod::model, SearchMethod::bagging}) {
        options.method = method;
        EXPECT_EQ(calibrate_cascade(train, chain, parse_target("strong-0.01"), options).thresholds.size(), 3u);
    }
}

TEST(CascadeCalibration, RejectsBadTargetsAndTiersWithoutConfidence) {
    EXPECT_THAT([] { try { parse_target("cheap"); } catch (const core::Error& e) { return std::string(e.what()); } return std::string(); }(),
                HasSubstr("expected accuracy>=X, strong-D"));
    EXPECT_THROW(parse_target("accuracy>=high"), core::Error);
    EXPECT_THROW(parse_search_method("grid"), core::Error);
    const auto set = core::read_outcomes(test::outcome_file("gsm8k_routellm.jsonl"));
    EXPECT_THROW(calibrate_cascade(set, set.models, parse_target("strong-0.01"), {}), core::Error);
}

}  // namespace
}  // namespace hiro::eval
