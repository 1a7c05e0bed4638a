// The reference figures of ../shared/data/README.md, measured on the real files.
#include <gtest/gtest.h>

#include "core/outcome_reader.h"
#include "eval/eval_report.h"
#include "test_paths.h"

namespace hiro::eval {
namespace {

struct Reference {
    const char* file;
    const char* weak;
    const char* strong;
    double weak_accuracy, strong_accuracy, oracle_accuracy;
    double cascade_apgr, cpt50, cpt80;  // < 0: the file has no confidence
};

class ReferenceFigures : public ::testing::TestWithParam<Reference> {};

TEST_P(ReferenceFigures, MatchTheDataReadme) {
    const Reference& ref = GetParam();
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file(ref.file));
    EvalOptions options;
    options.weak = ref.weak;
    options.strong = ref.strong;
    options.random_seeds = 20;
    const EvalReport report = evaluate(set, options);
    ASSERT_TRUE(report.pair);
    const PairReport& p = *report.pair;
    EXPECT_NEAR(p.weak_accuracy, ref.weak_accuracy, 0.001);
    EXPECT_NEAR(p.strong_accuracy, ref.strong_accuracy, 0.001);
    EXPECT_NEAR(p.oracle_accuracy, ref.oracle_accuracy, 0.001);
    if (ref.cascade_apgr >= 0) {
        ASSERT_TRUE(p.has_confidence);
        EXPECT_NEAR(p.cascade_apgr, ref.cascade_apgr, 0.001);
        EXPECT_NEAR(p.cascade_cpt50, ref.cpt50, 0.001);
        EXPECT_NEAR(p.cascade_cpt80, ref.cpt80, 0.001);
    } else {
        EXPECT_FALSE(p.has_confidence);
    }
    // The random router: exactly 0.5 in expectation, and close to it over seeded shuffles.
    EXPECT_NEAR(p.random_apgr_expected, 0.5, 1e-12);
    EXPECT_NEAR(apgr(p.random_curve, p.weak_accuracy, p.strong_accuracy), 0.5, 1e-9);
    EXPECT_NEAR(p.random_apgr_seeded_mean, 0.5, 0.01);
    EXPECT_GT(p.random_apgr_seeded_sd, 0.0);  // the shuffles really differ
}

INSTANTIATE_TEST_SUITE_P(
    DataReadme, ReferenceFigures,
    ::testing::Values(Reference{"triviaqa_llama_test.jsonl", "llama3.1-8b", "llama3.1-405b", 0.787, 0.949, 0.957, 0.805, 0.150, 0.322},
                      Reference{"mmlu_llama_test.jsonl", "llama3.1-8b", "llama3.1-405b", 0.634, 0.852, 0.888, 0.696, 0.262, 0.501},
                      Reference{"mmlu_qwen_oai_test.jsonl", "gpt-4o-mini", "gpt-4o", 0.749, 0.836, 0.880, 0.779, 0.215, 0.358},
                      Reference{"mmlu_routellm.jsonl", "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview", 0.681, 0.806,
                                0.859, -1, -1, -1},
                      Reference{"gsm8k_routellm.jsonl", "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview", 0.638, 0.857,
                                0.929, -1, -1, -1}),
    [](const auto& info) {
        std::string name = info.param.file;
        return name.substr(0, name.find('.'));
    });

TEST(ReferenceFigures, TiesInConfidenceAreNotSplit) {
    // 700 of 1531 weak answers in mmlu_qwen_oai_test share confidence 0.0: the
    // curve must step over that block in one segment.
    const core::OutcomeSet set = core::read_outcomes(test::outcome_file("mmlu_qwen_oai_test.jsonl"));
    const std::size_t weak = set.model_index("gpt-4o-mini");
    TwoTierSweep sweep(set, weak, set.model_index("gpt-4o"), confidence_scores(set, weak), Payment::cascade);
    const auto curve = sweep.tie_block_curve();
    std::size_t widest = 0;
    for (std::size_t i = 1; i < curve.size(); ++i) {
        const auto calls = static_cast<std::size_t>((curve[i].strong_share - curve[i - 1].strong_share) * set.size() + 0.5);
        widest = std::max(widest, calls);
    }
    EXPECT_GE(widest, 700u);
}

}  // namespace
}  // namespace hiro::eval
