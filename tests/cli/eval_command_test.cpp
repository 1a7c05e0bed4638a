// `hiro eval` as a user runs it: the real binary on the real files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

TEST(EvalCommand, TableJsonAndPlotAgree) {
    TempDir dir;
    const auto json = dir.file("r.json"), svg = dir.file("r.svg");
    const auto r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") +
                                    " --weak llama3.1-8b --strong llama3.1-405b --json " + json + " --plot " + svg));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("1531 queries, 5 models"));
    EXPECT_THAT(r.out, HasSubstr("cascade on the weak model's confidence         0.696     0.262     0.501"));
    const auto j = nlohmann::json::parse(read_text(json));
    EXPECT_NEAR(j["pair"]["cascade"]["apgr"].get<double>(), 0.696, 0.001);
    EXPECT_EQ(j["models"].size(), 5u);
    const std::string plot = read_text(svg);
    EXPECT_THAT(plot, HasSubstr("<svg"));
    EXPECT_THAT(plot, HasSubstr("cascade (APGR 0.696)"));
    EXPECT_THAT(plot, HasSubstr("llama3.1-405b"));
    EXPECT_THAT(plot, HasSubstr("oracle (upper bound)"));
}

TEST(EvalCommand, ExtraPoliciesAndPrices) {
    const auto r = run_command(hiro("eval " + outcome_file("mmlupro_9models.jsonl") + " --prices " + HIRO_SOURCE_DIR +
                                    "/config/prices/mmlupro_9models.yaml --policy "
                                    "consistency:phi-3-mini,llama-3.1-8b-instruct,gemini-1.5-flash,gemini-1.5-pro:min_agree=2 --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    bool found = false;
    for (const auto& p : j["policies"]) found = found || p["policy"].get<std::string>().starts_with("agree(2 of");
    EXPECT_TRUE(found) << r.out;
    EXPECT_TRUE(j.contains("pareto_front"));
}

TEST(EvalCommand, ErrorsSayWhatIsWrongAndExitNonZero) {
    auto r = run_command(hiro("eval /nonexistent.jsonl"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("hiro: error: cannot open /nonexistent.jsonl"));

    r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --weak gpt-5"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("unknown model 'gpt-5'"));

    TempDir dir;
    const auto bad = dir.file("bad.jsonl");
    std::ofstream(bad) << R"({"prompt": "p", "models": {"a": {"correct": 1}}})" << "\n";
    r = run_command(hiro("eval " + bad));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("line 1: models.a.correct must be a boolean (got a number)"));

    r = run_command(hiro("eval " + outcome_file("mmlu_routellm.jsonl") + " --policy cascade:mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview:thresholds=0"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("has no recorded confidence"));

    r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --policy nonsense:a"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("unknown policy 'nonsense'"));
}

TEST(EvalCommand, HelpExplainsOptionsAndPolicies) {
    const auto r = run_command(hiro("eval --help"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("--chain"));
    EXPECT_THAT(r.out, HasSubstr("consistency:"));
    EXPECT_EQ(run_command(hiro("--help")).exit_code, 0);
}

}  // namespace
}  // namespace hiro::test
