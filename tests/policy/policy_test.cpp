#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>

#include "core/error.h"
#include "policy/registry.h"
#include "test_paths.h"

namespace hiro::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Tiers whose signals are fixed up front; counts what was asked.
class FixedTiers : public TierAccess, public RecordedOutcomes {
public:
    explicit FixedTiers(std::vector<TierSignal> signals) : signals_(std::move(signals)) {}
    TierSignal ask(std::size_t position) override {
        asked.push_back(position);
        return signals_.at(position);
    }
    bool correct(std::size_t position) const override { return signals_.at(position).correct.value_or(false); }
    std::vector<std::size_t> asked;

private:
    std::vector<TierSignal> signals_;
};

std::string error_of(const PolicySpec& spec) {
    try {
        make_policy(spec);
    } catch (const core::Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(ThresholdCascade, StopsAtTheFirstConfidentTier) {
    auto policy = make_policy({"cascade", {"s", "m", "l"}, {-0.5, -0.2}, {}});
    FixedTiers confident_small({{-0.4, "a", true}, {-0.1, "b", true}, {0, "c", true}});
    Decision d = policy->decide({"q", "p"}, confident_small);
    EXPECT_EQ(d.chosen, 0u);
    EXPECT_EQ(d.reason, StopReason::confident);
    EXPECT_THAT(confident_small.asked, ElementsAre(0u));

    FixedTiers unsure({{-0.6, "a", true}, {-0.3, "b", true}, {-9, "c", true}});
    d = policy->decide({"q", "p"}, unsure);
    EXPECT_EQ(d.chosen, 2u);
    EXPECT_EQ(d.reason, StopReason::last_tier);
    EXPECT_THAT(d.tried(), ElementsAre(0u, 1u, 2u));
    EXPECT_THAT(d.confidences(), ElementsAre(-0.6, -0.3, -9));
}

TEST(ThresholdCascade, ThresholdIsInclusiveAndMinusInfinityAlwaysEscalates) {
    auto policy = make_policy({"cascade", {"s", "l"}, {-0.5}, {}});
    FixedTiers at({{-0.5, "", {}}, {0, "", {}}});
    EXPECT_EQ(policy->decide({"q", "p"}, at).chosen, 0u);
    auto lowest = make_policy({"cascade", {"s", "l"}, {-std::numeric_limits<double>::max()}, {}});
    FixedTiers none({{-std::numeric_limits<double>::infinity(), "", {}}, {0, "", {}}});
    EXPECT_EQ(lowest->decide({"q", "p"}, none).chosen, 1u);
}

TEST(ConsistencyCascade, AcceptsWhenEnoughCheapTiersAgree) {
    auto policy = make_policy({"consistency", {"a", "b", "c", "strong"}, {}, {{"min_agree", 2}}});
    FixedTiers agree({{0, "x", true}, {0, "y", false}, {0, "y", false}, {0, "z", true}});
    Decision d = policy->decide({"q", "p"}, agree);
    EXPECT_EQ(d.reason, StopReason::agreement);
    EXPECT_EQ(d.chosen, 1u);  // the first tier that gave the majority answer
    EXPECT_THAT(agree.asked, ElementsAre(0u, 1u, 2u));

    FixedTiers split({{0, "x", true}, {0, "y", false}, {0, "", false}, {0, "z", true}});
    d = policy->decide({"q", "p"}, split);
    EXPECT_EQ(d.chosen, 3u);
    EXPECT_EQ(d.reason, StopReason::last_tier);
}

TEST(ConsistencyCascade, UnknownAnswersNeverAgree) {
    auto policy = make_policy({"consistency", {"a", "b", "strong"}, {}, {}});
    FixedTiers empty({{0, "", true}, {0, "", true}, {0, "z", true}});
    EXPECT_EQ(policy->decide({"q", "p"}, empty).chosen, 2u);
}

TEST(RandomRouter, IsSeededAndSendsTheAskedShare) {
    auto policy = make_policy({"random", {"w", "s"}, {}, {{"strong_share", 0.3}, {"seed", 7}}});
    FixedTiers tiers({{0, "", {}}, {0, "", {}}});
    int strong = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        std::string id = "q";  // not "q" + to_string(): GCC 12 -Wrestrict false positive
        id += std::to_string(i);
        const Decision d = policy->decide({id, ""}, tiers);
        EXPECT_EQ(d.chosen, policy->decide({id, ""}, tiers).chosen) << "not reproducible for " << id;
        strong += d.chosen == 1 ? 1 : 0;
    }
    EXPECT_NEAR(strong / static_cast<double>(n), 0.3, 0.015);
}

TEST(Oracle, PicksTheCheapestCorrectTierAndRefusesToRunOnline) {
    auto policy = make_policy({"oracle", {"a", "b", "c"}, {}, {}});
    FixedTiers tiers({{0, "", false}, {0, "", true}, {0, "", true}});
    const Decision d = policy->decide({"q", "p", &tiers}, tiers);
    EXPECT_EQ(d.chosen, 1u);
    EXPECT_THAT(tiers.asked, ElementsAre(1u));  // pays only for its pick
    FixedTiers online({{0, "", {}}, {0, "", {}}, {0, "", {}}});
    EXPECT_THROW(policy->decide({"q", "p"}, online), core::Error);  // no recorded outcomes online
}

TEST(Registry, RejectsUnknownKindsAndBadSpecs) {
    EXPECT_THAT(error_of({"magic", {"a"}, {}, {}}), HasSubstr("unknown policy 'magic'; known: single, cascade"));
    EXPECT_THAT(error_of({"cascade", {"a", "b", "c"}, {-1}, {}}), HasSubstr("needs 2 thresholds (one per tier but the last), got 1"));
    EXPECT_THAT(error_of({"cascade", {"a"}, {}, {}}), HasSubstr("at least two tiers"));
    EXPECT_THAT(error_of({"single", {"a", "b"}, {}, {}}), HasSubstr("exactly one tier"));
    EXPECT_THAT(error_of({"random", {"a", "b"}, {}, {{"strong_share", 2}}}), HasSubstr("strong_share must be between 0 and 1"));
    EXPECT_THAT(error_of({"consistency", {"a", "b", "c"}, {}, {{"min_agree", 3}}}), HasSubstr("min_agree must be a whole number from 1 to 2"));
    EXPECT_THAT(error_of({"oracle", {}, {}, {}}), HasSubstr("needs at least one tier"));
}

TEST(PolicySpec, ParsesInlineArgumentsAndFiles) {
    PolicySpec spec = parse_policy_argument("cascade:a,b,c:thresholds=-0.5,-0.25:seed=3");
    EXPECT_EQ(spec.kind, "cascade");
    EXPECT_THAT(spec.tiers, ElementsAre("a", "b", "c"));
    EXPECT_THAT(spec.thresholds, ElementsAre(-0.5, -0.25));
    EXPECT_EQ(spec.param("seed", 0), 3);
    EXPECT_THROW(parse_policy_argument("cascade"), core::Error);
    EXPECT_THROW(parse_policy_argument("cascade:a,b:thresholds=high"), core::Error);

    test::TempDir dir;
    const auto yaml = dir.file("p.yaml");
    std::ofstream(yaml) << "kind: cascade\ntiers: [a, b]\nthresholds: [-0.7]\n";
    spec = parse_policy_argument(yaml);
    EXPECT_THAT(spec.tiers, ElementsAre("a", "b"));
    EXPECT_THAT(spec.thresholds, ElementsAre(-0.7));
    const auto json = dir.file("p.json");
    std::ofstream(json) << R"({"kind": "random", "tiers": ["a", "b"], "params": {"strong_share": 0.25}})";
    EXPECT_EQ(parse_policy_argument(json).param("strong_share", 0), 0.25);
    std::ofstream(json) << R"({"kind": "random", "tiers": "a"})";
    EXPECT_THROW(load_policy_spec(json), core::Error);
}

}  // namespace
}  // namespace hiro::policy
