// `hiro fit-confidence` on the real MMLU files: fitted on train, judged on test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

TEST(FitConfidenceCommand, CalibratesAWeakModelOnHeldOutData) {
    TempDir dir;
    const auto model = dir.file("lc.json");
    const auto r = run_command(hiro("fit-confidence " + outcome_file("mmlu_llama_train.jsonl") + " --model llama3.2-1b --test " +
                                    outcome_file("mmlu_llama_test.jsonl") + " --out " + model + " --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    EXPECT_EQ(j["train_queries"], 285);
    EXPECT_EQ(j["test_queries"], 1531);
    // llama3.2-1b's answer log-probability is overconfident; the fit corrects it out of sample.
    EXPECT_LT(j["test_log_loss"].get<double>(), j["test_raw_log_loss"].get<double>() - 0.01);

    const auto bad = run_command(hiro("fit-confidence " + outcome_file("mmlu_llama_train.jsonl") + " --model llama3.2-1b --signals top2_margin --out " + model));
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.out, HasSubstr("has no signal 'top2_margin'"));
}

}  // namespace
}  // namespace hiro::test
