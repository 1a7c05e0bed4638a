// The online threshold learners on synthetic streams whose best threshold is
// known, and the adaptive_cascade policy built, decided and persisted.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "policy/adaptive_cascade.h"
#include "policy/registry.h"
#include "policy/threshold_learner.h"

namespace hiro::policy {
namespace {

// A calibrated weak tier: confidence log(p) with p uniform, right with
// probability p; escalating costs lambda 0.1 plus the strong tier's 10%
// errors. Accepting is worth it when 1 - p <= 0.2: the best threshold is log 0.8.
struct Stream {
    std::mt19937_64 rng{7};
    std::uniform_real_distribution<double> unit{0.0, 1.0};
    struct Query {
        double confidence;
        ThresholdObservation::Losses losses;
    };
    Query next() {
        const double p = unit(rng);
        const bool weak_right = unit(rng) < p, strong_right = unit(rng) < 0.9;
        return {std::log(p), {weak_right ? 0.0 : 1.0, 0.1 + (strong_right ? 0.0 : 1.0)}};
    }
};
const double best_threshold = std::log(0.8);

// Feeds a learner n queries; with `partial`, a query is labelled only when the
// learner escalated it or (probability epsilon) verified it, as live.
void feed(ThresholdLearner& learner, std::size_t n, bool partial, double epsilon = 0.1) {
    Stream s;
    std::mt19937_64 draws(11);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (std::size_t t = 0; t < n; ++t) {
        const auto q = s.next();
        const double p_escalate = learner.escalation_probability(q.confidence);
        ThresholdObservation o;
        o.confidence = q.confidence;
        o.escalated = unit(draws) < p_escalate;
        o.label_probability = partial ? p_escalate + (1 - p_escalate) * epsilon : 1.0;
        if (!partial || o.escalated || unit(draws) < epsilon) o.losses = q.losses;
        learner.observe(o);
    }
}

LearnerOptions options(std::string kind) {
    LearnerOptions o;
    o.kind = std::move(kind);
    return o;
}

TEST(ThresholdGrid, IsEvenInProbabilityWithBothEndsAndTheWarmStart) {
    const auto g = threshold_grid(4, std::nullopt);
    ASSERT_EQ(g.size(), 6u);
    EXPECT_TRUE(std::isinf(g.front()) && g.front() < 0);
    EXPECT_DOUBLE_EQ(g[1], std::log(0.25));
    EXPECT_DOUBLE_EQ(g[4], 0.0);
    EXPECT_TRUE(std::isinf(g.back()) && g.back() > 0);
    const auto warm = threshold_grid(4, -0.3);
    EXPECT_EQ(warm.size(), 7u);
    EXPECT_NE(std::find(warm.begin(), warm.end(), -0.3), warm.end());
}

TEST(ExpWeightsLearner, FullFeedbackFindsTheBestThreshold) {
    auto learner = make_threshold_learner(options("exp_weights"));
    EXPECT_NEAR(std::exp(learner->threshold()), 0.5, 0.05);  // the prior's median
    feed(*learner, 4000, false);
    EXPECT_NEAR(std::exp(learner->threshold()), 0.8, 0.06);
    EXPECT_GT(learner->escalation_probability(std::log(0.6)), 0.9);
    EXPECT_LT(learner->escalation_probability(std::log(0.95)), 0.1);
}

TEST(ExpWeightsLearner, ImportanceWeightedPartialFeedbackFindsItToo) {
    auto learner = make_threshold_learner(options("exp_weights"));
    feed(*learner, 8000, true);
    EXPECT_NEAR(std::exp(learner->threshold()), 0.8, 0.08);
}

TEST(ExpWeightsLearner, WarmStartKeepsItsThresholdUntilTheDataDisagree) {
    LearnerOptions o = options("exp_weights");
    o.warm_start = std::log(0.8);
    auto learner = make_threshold_learner(o);
    EXPECT_NEAR(learner->threshold(), std::log(0.8), 1e-12);
    EXPECT_GT(learner->escalation_probability(std::log(0.79)), 0.95);
    o.warm_start = std::log(0.3);  // a poor start: the data move it
    auto moved = make_threshold_learner(o);
    feed(*moved, 6000, false);
    EXPECT_NEAR(std::exp(moved->threshold()), 0.8, 0.08);
}

TEST(LcbLearner, StartsByEscalatingAndAcceptsOnlyWhatItHasSeenToBeGood) {
    auto learner = make_threshold_learner(options("lcb"));
    EXPECT_EQ(learner->escalation_probability(0.0), 1.0);  // nothing known: escalate (and learn)
    feed(*learner, 20000, true);
    // Conservative: it accepts only cells whose error it has bounded below the
    // escalation loss, so it stops at or above the best threshold (0.8).
    EXPECT_GE(std::exp(learner->threshold()), 0.8 - 1.0 / 64);
    EXPECT_LE(std::exp(learner->threshold()), 0.95);
    EXPECT_EQ(learner->escalation_probability(std::log(0.5)), 1.0);
    EXPECT_EQ(learner->escalation_probability(std::log(0.97)), 0.0);
}

TEST(TargetController, HoldsAnEscalationShare) {
    LearnerOptions o = options("target");
    o.escalation_share = 0.3;
    auto learner = make_threshold_learner(o);
    feed(*learner, 5000, true);
    EXPECT_NEAR(std::exp(learner->threshold()), 0.3, 0.04);  // P(p < 0.3) = 0.3
}

TEST(TargetController, HoldsACostPerThousandQueries) {
    LearnerOptions o = options("target");
    o.cost_per_1k = 0.4;  // 0.1 USD per answer, 1 USD more per escalation: 40% escalated costs 0.5 per query
    auto learner = make_threshold_learner(o);
    Stream s;
    for (int t = 0; t < 8000; ++t) {
        const auto q = s.next();
        ThresholdObservation obs;
        obs.confidence = q.confidence;
        obs.escalated = learner->escalation_probability(q.confidence) > 0.5;
        obs.cost_usd = 1e-4 + (obs.escalated ? 1e-3 : 0.0);
        learner->observe(obs);
    }
    EXPECT_NEAR(std::exp(learner->threshold()), 0.3, 0.04);  // (0.4 - 0.1) / 1 = 30% escalated
}

TEST(ThresholdLearners, StateRoundTripsThroughJson) {
    for (const char* kind : {"exp_weights", "lcb", "target"}) {
        LearnerOptions o = options(kind);
        o.escalation_share = 0.3;
        auto learner = make_threshold_learner(o);
        feed(*learner, 500, true);
        auto copy = make_threshold_learner(o);
        copy->restore(nlohmann::json::parse(learner->state().dump()));
        for (double p : {0.1, 0.5, 0.79, 0.81, 0.99}) {
            EXPECT_DOUBLE_EQ(copy->escalation_probability(std::log(p)), learner->escalation_probability(std::log(p))) << kind;
        }
        EXPECT_DOUBLE_EQ(copy->threshold(), learner->threshold()) << kind;
        EXPECT_THROW(copy->restore(nlohmann::json{{"learner", "other"}}), core::Error) << kind;
    }
}

TEST(AdaptiveCascade, IsARegisteredKindThatDecidesLearnsAndPersists) {
    PolicySpec spec{"adaptive_cascade", {"small", "big"}, {std::log(0.8)}, {{"lambda", 0.1}}};
    const auto policy = make_policy(spec);
    EXPECT_NE(policy->describe().find("adaptive exp_weights"), std::string::npos);
    auto* cascade = dynamic_cast<AdaptiveCascade*>(policy.get());
    ASSERT_NE(cascade, nullptr);
    // Warm-started: confident answers are kept, unconfident ones escalated.
    class Fixed final : public TierAccess {
    public:
        explicit Fixed(double c) : c_(c) {}
        TierSignal ask(std::size_t) override { return {c_, {}, std::nullopt}; }
        double c_;
    };
    Fixed sure(std::log(0.99)), unsure(std::log(0.2));
    int kept = 0, escalated = 0;
    for (int q = 0; q < 100; ++q) {
        const std::string id = std::to_string(q);
        kept += cascade->decide({id, {}, nullptr}, sure).chosen == 0;
        escalated += cascade->decide({id, {}, nullptr}, unsure).chosen == 1;
    }
    EXPECT_GE(kept, 95);
    EXPECT_GE(escalated, 95);

    ThresholdObservation o;
    o.confidence = std::log(0.9);
    o.losses = ThresholdObservation::Losses{1.0, 0.1};  // the confident answer was wrong
    for (int i = 0; i < 50; ++i) cascade->observe(0, o);
    spec.model = std::make_shared<const nlohmann::json>(nlohmann::json{{"learner", "exp_weights"}, {"state", cascade->state()}});
    const auto restored = build_adaptive_cascade(spec);
    EXPECT_DOUBLE_EQ(restored->escalation_probability(0, std::log(0.9)), cascade->escalation_probability(0, std::log(0.9)));
    EXPECT_GT(restored->escalation_probability(0, std::log(0.9)), 0.5);
}

TEST(AdaptiveCascade, RefusesSpecsItCannotUse) {
    EXPECT_THROW(make_policy({"adaptive_cascade", {"only"}, {}, {}}), core::Error);
    EXPECT_THROW(make_policy({"adaptive_cascade", {"a", "b", "c"}, {-0.1}, {}}), core::Error);
    EXPECT_THROW(make_policy({"adaptive_cascade", {"a", "b"}, {}, {{"epsilon", 2}}}), core::Error);
    PolicySpec unknown{"adaptive_cascade", {"a", "b"}, {}, {}};
    unknown.model = std::make_shared<const nlohmann::json>(nlohmann::json{{"learner", "magic"}});
    EXPECT_THROW(make_policy(unknown), core::Error);
    // A target without a learner named picks the target controller.
    const auto target = build_adaptive_cascade({"adaptive_cascade", {"a", "b"}, {}, {{"escalation", 0.2}}});
    EXPECT_EQ(target->learner(), "target");
}

}  // namespace
}  // namespace hiro::policy
