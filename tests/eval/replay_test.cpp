#include "eval/replay.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/outcome_reader.h"
#include "core/price_table.h"
#include "eval/cascade_calibration.h"
#include "eval/eval_report.h"
#include "policy/registry.h"
#include "test_paths.h"

namespace hiro::eval {
namespace {

TEST(Replay, ChainCascadePaysEveryTierItAsked) {
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file("mmlu_llama_train.jsonl"));
    const std::vector<std::string> chain{"llama3.2-3b", "llama3.1-70b", "llama3.1-405b"};
    const ReplayResult r = replay(*policy::make_policy({"cascade", chain, {-0.3, -0.2}, {}}), set);
    double cost = 0, latency = 0, correct = 0;
    std::size_t reached_third = 0;
    std::vector<std::size_t> chosen;
    std::vector<double> gap;  // per query: answer correct - 405b correct
    for (const auto& rec : set.records) {
        const double strong = rec.models[set.model_index(chain[2])].correct ? 1.0 : 0.0;
        const auto& a = rec.models[set.model_index(chain[0])];
        const auto& b = rec.models[set.model_index(chain[1])];
        const auto& c = rec.models[set.model_index(chain[2])];
        cost += *a.cost_usd;
        latency += *a.latency_ms;
        if (*a.confidence >= -0.3) {
            correct += a.correct;
            chosen.push_back(0);
            gap.push_back(a.correct - strong);
            continue;
        }
        cost += *b.cost_usd;
        latency += *b.latency_ms;
        if (*b.confidence >= -0.2) {
            correct += b.correct;
            chosen.push_back(1);
            gap.push_back(b.correct - strong);
            continue;
        }
        cost += *c.cost_usd;
        latency += *c.latency_ms;
        correct += c.correct;
        ++reached_third;
        chosen.push_back(2);
        gap.push_back(0.0);
    }
    const auto n = static_cast<double>(set.size());
    EXPECT_NEAR(r.accuracy, correct / n, 1e-12);
    EXPECT_NEAR(r.total_cost, cost, 1e-12);
    EXPECT_NEAR(r.mean_latency_ms, latency / n, 1e-9);
    EXPECT_NEAR(r.reached[2], static_cast<double>(reached_third) / n, 1e-12);
    EXPECT_NEAR(r.answered[0] + r.answered[1] + r.answered[2], 1.0, 1e-12);
    EXPECT_NEAR(r.cost_vs_strongest, cost / set.total_cost(set.model_index("llama3.1-405b")), 1e-12);
    EXPECT_EQ(r.chosen, chosen);
    // The gap's standard error: sample sd of the paired differences over sqrt(n).
    double mean = 0, squares = 0;
    for (double d : gap) mean += d / n;
    for (double d : gap) squares += (d - mean) * (d - mean);
    EXPECT_NEAR(gap_standard_error(r, set), std::sqrt(squares / (n - 1) / n), 1e-12);
    EXPECT_GT(gap_standard_error(r, set), 0.005);  // 285 queries cannot pin a 0.01 gap down
}

TEST(Replay, ConsistencyCascadeOnMmluPro) {
    core::OutcomeSet set = core::read_outcomes(test::outcome_file("mmlupro_9models.jsonl"));
    core::apply_prices(set, core::load_price_table(std::string(HIRO_SOURCE_DIR) + "/config/prices/mmlupro_9models.yaml"));
    const std::vector<std::string> tiers{"phi-3-mini", "llama-3.1-8b-instruct", "gemini-1.5-flash", "gemini-1.5-pro"};
    const ReplayResult all = replay(*policy::make_policy({"consistency", tiers, {}, {{"min_agree", 3}}}), set);
    const ReplayResult two = replay(*policy::make_policy({"consistency", tiers, {}, {{"min_agree", 2}}}), set);
    // Demanding more agreement escalates more, costs more, and is at least as accurate here.
    EXPECT_GT(all.escalation_rate, two.escalation_rate);
    EXPECT_GT(all.total_cost, two.total_cost);
    EXPECT_GT(all.accuracy, set.accuracy(set.model_index("gemini-1.5-flash")));
    EXPECT_LT(all.total_cost, set.total_cost(set.model_index("gemini-1.5-pro")) + 3 * set.total_cost(set.model_index("gemini-1.5-flash")));
}

TEST(Evaluate, FilesWithoutConfidenceGetRoutersButNoCascade) {
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file("gsm8k_routellm.jsonl"));
    const EvalReport report = evaluate(set, {});
    ASSERT_TRUE(report.pair);
    EXPECT_FALSE(report.pair->has_confidence);
    EXPECT_EQ(report.pair->strong, "gpt-4-1106-preview");
    EXPECT_FALSE(report.has_cost);
    EXPECT_TRUE(report.chain_curve.empty());
    EvalOptions chain;
    chain.chain = {"mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"};
    EXPECT_THROW(evaluate(set, chain), core::Error);  // no confidence to cascade on
}

TEST(Evaluate, DefaultsPickTheMostAccurateAndTheCheapestModel) {
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file("triviaqa_llama_train.jsonl"));
    const EvalReport report = evaluate(set, {});
    ASSERT_TRUE(report.pair);
    EXPECT_EQ(report.pair->strong, set.models[strongest_model(set)]);
    EXPECT_EQ(report.models.size(), 5u);
    EXPECT_EQ(report.chain_curve.size(), 21u);
    EXPECT_FALSE(report.pareto.empty());
    for (std::size_t i = 1; i < report.pareto.size(); ++i) EXPECT_GT(report.pareto[i].accuracy, report.pareto[i - 1].accuracy);
}

}  // namespace
}  // namespace hiro::eval
