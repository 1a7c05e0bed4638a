#include "eval/two_tier_sweep.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/outcome_reader.h"
#include "eval/replay.h"
#include "policy/registry.h"
#include "test_paths.h"

namespace hiro::eval {
namespace {

core::OutcomeSet toy(const std::vector<std::tuple<double, bool, bool>>& rows) {
    core::OutcomeSet set;
    set.source = "toy";
    set.models = {"weak", "strong"};
    int i = 0;
    for (auto [confidence, weak_ok, strong_ok] : rows) {
        core::OutcomeRecord r;
        r.id = std::to_string(i++);
        r.models.resize(2);
        r.models[0].correct = weak_ok;
        r.models[0].confidence = confidence;
        r.models[0].cost_usd = 1.0;
        r.models[1].correct = strong_ok;
        r.models[1].cost_usd = 10.0;
        set.records.push_back(r);
    }
    return set;
}

TEST(TwoTierSweep, TieBlocksAreNotSplitAndInfinityGoesFirst) {
    const double inf = std::numeric_limits<double>::infinity();
    const auto set = toy({{-inf, false, true}, {-1, false, true}, {-1, true, true}, {-0.5, true, false}});
    TwoTierSweep sweep(set, 0, 1, confidence_scores(set, 0), Payment::cascade);
    const auto curve = sweep.tie_block_curve();
    ASSERT_EQ(curve.size(), 4u);  // k = 0, 1, 3, 4: the two -1 answers stay together
    EXPECT_DOUBLE_EQ(curve[0].accuracy, 0.5);
    EXPECT_DOUBLE_EQ(curve[1].strong_share, 0.25);
    EXPECT_DOUBLE_EQ(curve[1].accuracy, 0.75);
    EXPECT_DOUBLE_EQ(curve[2].strong_share, 0.75);
    EXPECT_DOUBLE_EQ(curve[2].accuracy, 1.0);
    EXPECT_DOUBLE_EQ(curve[3].accuracy, 0.75);
    // A cascade pays the weak model always and the strong one when escalating.
    EXPECT_DOUBLE_EQ(curve[0].cost, 4.0);
    EXPECT_DOUBLE_EQ(curve[3].cost, 44.0);
    // A router pays exactly one of them.
    TwoTierSweep router(set, 0, 1, confidence_scores(set, 0), Payment::router);
    EXPECT_DOUBLE_EQ(router.at_count(4).cost, 40.0);
}

TEST(TwoTierSweep, ApgrAndCptOnAKnownCurve) {
    // weak 0.5, strong 1.0; PGR after escalating the lowest-scored one of 4 is 0.5.
    std::vector<CurvePoint> curve{{0, 0.0, 0.5, 0, 0}, {0, 0.25, 0.75, 0, 0}, {0, 1.0, 1.0, 0, 0}};
    // Area: 0.25 x (0 + 0.5) / 2 + 0.75 x (0.5 + 1) / 2 = 0.0625 + 0.5625.
    EXPECT_DOUBLE_EQ(apgr(curve, 0.5, 1.0), 0.625);
    EXPECT_DOUBLE_EQ(cpt(curve, 0.5, 1.0, 0.5), 0.25);
    EXPECT_DOUBLE_EQ(cpt(curve, 0.5, 1.0, 0.75), 0.25 + 0.75 * 0.5);
    EXPECT_DOUBLE_EQ(cpt(curve, 0.5, 1.0, 0.0), 0.0);
}

TEST(TwoTierSweep, EveryThresholdMatchesReplayingTheCascadePolicy) {
    // The O(log n) sweep and the policy object replayed query by query must agree.
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    const std::size_t weak = set.model_index("llama3.1-8b"), strong = set.model_index("llama3.1-405b");
    TwoTierSweep sweep(set, weak, strong, confidence_scores(set, weak), Payment::cascade);
    for (double t : sweep.even_thresholds(25)) {
        const CurvePoint p = sweep.at_threshold(t);
        const ReplayResult r = replay(*policy::make_policy({"cascade", {"llama3.1-8b", "llama3.1-405b"}, {t}, {}}), set);
        EXPECT_NEAR(p.accuracy, r.accuracy, 1e-12) << "threshold " << t;
        EXPECT_NEAR(p.cost, r.total_cost, 1e-9) << "threshold " << t;
        EXPECT_NEAR(p.latency_ms, r.mean_latency_ms, 1e-9) << "threshold " << t;
        EXPECT_NEAR(p.strong_share, r.reached[1], 1e-12) << "threshold " << t;
    }
}

TEST(TwoTierSweep, EvenThresholdsSpanAllEscalationShares) {
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file("triviaqa_llama_test.jsonl"));
    TwoTierSweep sweep(set, 2, 4, confidence_scores(set, 2), Payment::cascade);
    const auto points = sweep.at_thresholds(sweep.even_thresholds(1000));
    ASSERT_EQ(points.size(), 1000u);
    EXPECT_DOUBLE_EQ(points.back().strong_share, 1.0);
    for (std::size_t i = 1; i < points.size(); ++i) EXPECT_GE(points[i].strong_share, points[i - 1].strong_share);
}

}  // namespace
}  // namespace hiro::eval
