// `hiro router train` and `hiro calibrate` as a user runs them.
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

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

TEST(RouterTrainCommand, ReportsHeldOutFoldsAndWritesAPolicyHiroEvalLoads) {
    TempDir dir;
    const auto router = dir.file("router.json"), report = dir.file("report.json"), svg = dir.file("curve.svg");
    auto r = run_command(hiro("router train --data " + outcome_file("mmlu_llama_train.jsonl") +
                              " --models llama3.1-8b,llama3.1-70b,llama3.1-405b --method logistic,mf --folds 3 --out " + router +
                              " --json " + report + " --plot " + svg));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("held out: 3-fold CV"));
    EXPECT_THAT(r.out, HasSubstr("random        0.500"));
    const auto j = read_json(report);
    ASSERT_EQ(j["methods"].size(), 2u);
    EXPECT_EQ(j["methods"][0]["fold_apgr"].size(), 3u);
    EXPECT_TRUE(j["methods"][0]["aiq"].is_number());
    std::ifstream plot(svg);
    std::stringstream s;
    s << plot.rdbuf();
    EXPECT_THAT(s.str(), HasSubstr("oracle (upper bound)"));
    EXPECT_THAT(s.str(), HasSubstr("logistic router (AIQ"));

    const auto policy = read_json(router);
    EXPECT_EQ(policy["kind"], "router");
    EXPECT_TRUE(policy["model"].contains("quality"));
    r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") + " --policy " + router + " --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto e = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    bool found = false;
    for (const auto& p : e["policies"]) found = found || p["policy"].get<std::string>().starts_with("router(lambda");
    EXPECT_TRUE(found) << r.out;
}

// The done-criterion of the routing work, as a regression guard: held-out
// APGR above RouteLLM's best published router on GSM8K (0.622), with the
// choice of method itself made inside the training folds (--nested).
TEST(RouterTrainCommand, DefaultFeaturesBeatRouteLLMOnGsm8k) {
    auto r = run_command(hiro("router train --data " + outcome_file("gsm8k_routellm.jsonl") + " --nested --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    ASSERT_EQ(j["nested"]["picked"].size(), 5u);
    EXPECT_GT(j["nested"]["apgr_mean"].get<double>(), 0.622);
    EXPECT_THAT(run_command(hiro("router train --data " + outcome_file("mmlu_llama_train.jsonl") + " --test " +
                                 outcome_file("mmlu_llama_test.jsonl") + " --nested")).out,
                HasSubstr("--nested measures the choice of method by cross-validation; drop --test"));
}

// Embedding features run the GGUF model through the engine, at training and
// again when hiro eval loads the router file.
TEST(RouterTrainCommand, EmbeddingFeaturesComeFromAGgufModel) {
    TempDir dir;
    const auto router = dir.file("router.json");
    auto r = run_command(hiro("router train --data " + outcome_file("mmlu_llama_train.jsonl") +
                              " --models llama3.1-8b,llama3.1-405b --method knn --folds 2 --features embedding,stats --embedding-model " +
                              shared_model("stories260K.gguf") + " --out " + router));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("embedding model " + shared_model("stories260K.gguf") + " (64 values per prompt)"));
    const auto policy = read_json(router);
    const auto& parts = policy["model"]["features"]["parts"];
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0]["kind"], "embedding");
    EXPECT_EQ(parts[0]["dimension"], 64);
    // (stories260K embeds ~10k tokens/s here: the smaller file keeps this quick.)
    r = run_command(hiro("eval " + outcome_file("triviaqa_llama_train.jsonl") + " --policy " + router));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("router(lambda"));

    r = run_command(hiro("router train --data " + outcome_file("mmlu_llama_train.jsonl") + " --features embedding"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("embedding features need a GGUF embedding model (--embedding-model FILE)"));
    r = run_command(hiro("router train --data " + outcome_file("mmlu_llama_train.jsonl") + " --features embedding --embedding-model " +
                         dir.file("missing.gguf")));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("missing.gguf"));
}

TEST(RouterTrainCommand, ErrorsSayWhatToFix) {
    auto r = run_command(hiro("router train --data " + outcome_file("gsm8k_routellm.jsonl") + " --method forest"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("unknown router method 'forest'; known: logistic, knn, mf"));
    r = run_command(hiro("router train --data " + outcome_file("gsm8k_routellm.jsonl") + " --split train"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("has no query with \"split\": \"train\""));
    r = run_command(hiro("router train --data " + outcome_file("gsm8k_routellm.jsonl") + " --models gpt-5,gpt-4-1106-preview"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("unknown model 'gpt-5'"));
    EXPECT_EQ(run_command(hiro("router train --help")).exit_code, 0);
}

TEST(CalibrateCommand, TunesOnTrainReportsTestAndWritesAPolicy) {
    TempDir dir;
    const auto policy = dir.file("cascade.json"), report = dir.file("calibration.json");
    auto r = run_command(hiro("calibrate --train " + outcome_file("triviaqa_llama_train.jsonl") + " --test " +
                              outcome_file("triviaqa_llama_test.jsonl") +
                              " --chain llama3.2-3b,llama3.1-70b,llama3.1-405b --target strong-0.01 --out " + policy + " --json " + report));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("Platt"));
    const auto j = read_json(report);
    EXPECT_EQ(j["results"].size(), 4u);  // empirical, bootstrap, model, bagging
    EXPECT_EQ(j["ece"].size(), 2u);
    const auto p = read_json(policy);
    EXPECT_EQ(p["kind"], "cascade");
    EXPECT_EQ(p["thresholds"].size(), 2u);
    EXPECT_EQ(p["confidence"], "answer_logprob");  // the signal the thresholds were tuned on
    r = run_command(hiro("eval " + outcome_file("triviaqa_llama_test.jsonl") + " --policy " + policy));
    ASSERT_EQ(r.exit_code, 0) << r.out;

    // Without a test file, k-fold cross-validation of the train file, with the spread.
    r = run_command(hiro("calibrate --train " + outcome_file("triviaqa_llama_train.jsonl") + " --chain llama3.1-8b,llama3.1-70b,llama3.1-405b"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("5-fold stratified CV"));
    EXPECT_THAT(r.out, HasSubstr("(sd over folds)"));

    // A target finer than the train split can measure is called out.
    r = run_command(hiro("calibrate --train " + outcome_file("mmlu_llama_train.jsonl") + " --test " + outcome_file("mmlu_llama_test.jsonl") +
                         " --chain llama3.2-3b,llama3.1-70b,llama3.1-405b --method empirical"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("gap se"));
    EXPECT_THAT(r.out, HasSubstr("warning: on 285 train queries the empirical policy's accuracy gap to llama3.1-405b has a standard error of 0.0"));
}

TEST(CalibrateCommand, ComparesRouteThenCascadeWithRouterAndCascadeOnTheSameSplit) {
    TempDir dir;
    const auto policy = dir.file("route_cascade.json"), report = dir.file("r.json");
    auto r = run_command(hiro("calibrate --train " + outcome_file("triviaqa_llama_train.jsonl") + " --test " +
                              outcome_file("triviaqa_llama_test.jsonl") +
                              " --chain llama3.2-3b,llama3.1-70b,llama3.1-405b --router logistic --method bagging --out " + policy +
                              " --json " + report));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("logistic router"));
    EXPECT_THAT(r.out, HasSubstr("route+bagging"));
    const auto p = read_json(policy);
    EXPECT_EQ(p["kind"], "route_cascade");
    EXPECT_TRUE(p["model"].contains("features"));
    // hiro eval replays the written policy to the figure calibrate reported.
    const auto j = read_json(report);
    const double reported = j["results"].back()["accuracy_mean"].get<double>();
    r = run_command(hiro("eval " + outcome_file("triviaqa_llama_test.jsonl") + " --policy " + policy + " --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto e = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    EXPECT_NEAR(e["policies"].back()["accuracy"].get<double>(), reported, 1e-12);
}

TEST(CalibrateCommand, ErrorsSayWhatToFix) {
    auto r = run_command(hiro("calibrate --train " + outcome_file("mmlu_llama_train.jsonl") + " --target cheap"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("expected accuracy>=X, strong-D"));
    r = run_command(hiro("calibrate --train " + outcome_file("gsm8k_routellm.jsonl")));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("has no recorded confidence"));
    r = run_command(hiro("calibrate --train " + outcome_file("mmlu_llama_train.jsonl") + " --method grid"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("known: empirical, bootstrap, model, bagging"));
}

}  // namespace
}  // namespace hiro::test

namespace hiro::test {
namespace {

TEST(RouterTasksCommand, LearnsTheTaskOfAQueryAndMeasuresItOnHeldOutFiles) {
    TempDir dir;
    const auto router = dir.file("tasks.json"), report = dir.file("report.json");
    const std::string train = outcome_file("mmlu_llama_train.jsonl") + "," + outcome_file("triviaqa_llama_train.jsonl");
    auto r = run_command(hiro("router tasks --data " + train + " --test " + outcome_file("mmlu_llama_test.jsonl") + "," +
                              outcome_file("triviaqa_llama_test.jsonl") + " --out " + router + " --json " + report));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(std::ifstream(report));
    EXPECT_EQ(j["tasks"], nlohmann::json({"mmlu", "triviaqa"}));
    EXPECT_EQ(j["held_out"], "on the --test files");
    EXPECT_GT(j["measured"]["accuracy"].get<double>(), 0.9) << j.dump();  // two tasks with distinct instructions
    EXPECT_EQ(nlohmann::json::parse(std::ifstream(router))["kind"], "task_router");

    r = run_command(hiro("router tasks --data " + train + " --folds 3"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("3-fold cross-validation of --data"));

    r = run_command(hiro("router tasks --data " + outcome_file("mmlu_llama_train.jsonl")));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("a task router needs queries of at least two tasks"));
}

}  // namespace
}  // namespace hiro::test
