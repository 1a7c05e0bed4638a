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

TEST(EvalCommand, CostTiesGoToTheMoreAccurateModel) {
    // llama3.2-1b and llama3.2-3b cost the same on this file: the weak model of
    // the default pair is the more accurate of the two, not the first listed.
    const auto r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl")));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("weak llama3.2-3b -> strong llama3.1-405b"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("weak llama3.2-1b")));
}

TEST(EvalCommand, InSampleThresholdIsLabelledAndTheVerdictSaysWhatItBuys) {
    const auto r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --weak llama3.1-8b"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("llama3.1-8b (>=-0.323794) -> llama3.1-405b\n    [in-sample threshold]"));
    EXPECT_THAT(r.out, HasSubstr("verdict: cascade llama3.1-8b → llama3.1-405b: 95% of llama3.1-405b's accuracy at 59% of its "
                                 "cost on this file (in-sample threshold)"));
}

TEST(EvalCommand, JsonCarriesThresholdOriginVerdictAndWarnings) {
    const auto r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --weak llama3.1-8b --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    EXPECT_EQ(j["thresholds_from"], "in-sample");
    EXPECT_EQ(j["pair"]["cascade"]["thresholds_from"], "in-sample");
    EXPECT_THAT(j["verdict"].get<std::string>(), HasSubstr("95% of llama3.1-405b's accuracy at 59% of its cost"));
    EXPECT_TRUE(j["warnings"].empty());
    bool labelled = false;
    for (const auto& p : j["policies"]) labelled = labelled || p.value("thresholds_from", "") == "in-sample";
    EXPECT_TRUE(labelled) << r.out;
}

TEST(EvalCommand, TrainPicksTheThresholdOnAnotherFile) {
    const auto train = outcome_file("mmlu_llama_train.jsonl");
    const auto r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --weak llama3.1-8b --train " + train));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("llama3.1-8b (>=-0.364831) -> llama3.1-405b\n    [threshold fitted on"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("in-sample")));
    EXPECT_THAT(r.out, HasSubstr("94% of llama3.1-405b's accuracy at 57% of its cost on this file (threshold fitted on " + train + ")"));
    // The sweep metrics stay those of the reported file.
    EXPECT_THAT(r.out, HasSubstr("cascade on the weak model's confidence         0.696     0.262     0.501"));

    const auto js = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --weak llama3.1-8b --json - --train " + train));
    ASSERT_EQ(js.exit_code, 0) << js.out;
    const auto j = nlohmann::json::parse(js.out.substr(js.out.find('{')));
    EXPECT_EQ(j["thresholds_from"], train);
    EXPECT_NEAR(j["pair"]["cascade"]["cpt80_threshold"].get<double>(), -0.364831, 1e-6);

    const auto missing = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --weak llama3.1-8b --train " +
                                          outcome_file("mmlu_qwen_oai_train.jsonl")));
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_THAT(missing.out, HasSubstr("unknown model 'llama3.1-8b'"));
}

TEST(EvalCommand, WarnsWhenARouterIsReplayedOnItsTrainingQueries) {
    TempDir dir;
    const auto router = dir.file("router.json");
    const auto train = outcome_file("mmlu_llama_train.jsonl");
    auto r = run_command(hiro("router train --data " + train + " --models llama3.1-8b,llama3.1-405b --method logistic --out " + router));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(nlohmann::json::parse(read_text(router))["model"]["training"]["queries"], 285);

    r = run_command(hiro("eval " + train + " --policy " + router));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("was trained on 285 of these 285 queries (100%; trained on " + train +
                                 "): its figures here are in-sample, not held out"));

    r = run_command(hiro("eval " + train + " --policy " + router + " --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    ASSERT_EQ(j["warnings"].size(), 1u);
    EXPECT_THAT(j["warnings"][0].get<std::string>(), HasSubstr("285 of these 285"));

    // On the test file only the one prompt the two files share is flagged.
    r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --policy " + router));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("was trained on 1 of these 1531 queries"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("its figures here are in-sample")));
}

TEST(EvalCommand, LongNamesWrapAndMissingFiguresReadNa) {
    TempDir dir;
    const auto file = dir.file("long.jsonl");
    const std::string a = "organisation-with-a-long-name/a-very-long-model-name-instruct-v0.1";
    const std::string b = "another-organisation/an-even-longer-model-name-chat-hf";
    {
        std::ofstream out(file);
        for (int i = 0; i < 10; ++i) {
            out << R"({"prompt": "q)" << i << R"(", "models": {")" << a << R"(": {"correct": )" << (i % 2 ? "true" : "false")
                << R"(, "confidence": )" << -0.1 * i << R"(}, ")" << b << R"(": {"correct": true}}})" << "\n";
        }
    }
    const auto r = run_command(hiro("eval " + file));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    // The cascade's name is longer than the column: every word of it is there.
    EXPECT_THAT(r.out, HasSubstr("  " + a + "\n    (>=-0.1) ->\n    " + b + "\n    [in-sample threshold]     "));
    // A name longer than the column alone: the figures go below it, in their columns.
    EXPECT_THAT(r.out, HasSubstr("  " + a + "\n" + std::string(63, ' ') + "0.5000         n/a      n/a       n/a  -\n"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("...")));
    EXPECT_THAT(r.out, HasSubstr("n/a       n/a"));  // no latency recorded
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr(" 0.0  ")));
    const auto js = run_command(hiro("eval " + file + " --json -"));
    ASSERT_EQ(js.exit_code, 0) << js.out;
    const auto j = nlohmann::json::parse(js.out.substr(js.out.find('{')));
    EXPECT_TRUE(j["models"][0]["mean_latency_ms"].is_null());
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
