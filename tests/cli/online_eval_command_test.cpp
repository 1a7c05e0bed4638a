// `hiro eval --online` as a user runs it: the real binary on the real files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

TEST(OnlineEvalCommand, TableJsonAndPlotAgree) {
    TempDir dir;
    const auto json = dir.file("online.json"), svg = dir.file("online.svg");
    const auto r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") +
                                    " --online --chain llama3.1-8b,llama3.1-405b --feedback realistic --seeds 4 --json " + json + " --plot " + svg));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("online exp_weights cascade llama3.1-8b -> llama3.1-405b"));
    EXPECT_THAT(r.out, HasSubstr("1531 queries, 4 seeded orders; loss = wrong answer + 0.1 x escalation; feedback: realistic"));
    EXPECT_THAT(r.out, HasSubstr("R(T)/T"));
    EXPECT_THAT(r.out, HasSubstr("verified"));
    const auto j = nlohmann::json::parse(read_text(json));
    EXPECT_EQ(j["orders"], 4);
    EXPECT_EQ(j["feedback"], "realistic");
    ASSERT_EQ(j["checkpoints"].size(), 4u);
    EXPECT_EQ(j["checkpoints"][0]["queries"], 191);  // n/8
    EXPECT_EQ(j["checkpoints"][3]["queries"], 1531);
    EXPECT_EQ(j["trajectory"].size(), 64u);
    // The table prints what the JSON holds.
    char whole[64];
    std::snprintf(whole, sizeof whole, "whole stream: online %.4f per query", j["loss"].get<double>());
    EXPECT_THAT(r.out, HasSubstr(whole));
    const std::string plot = read_text(svg);
    EXPECT_THAT(plot, HasSubstr("<svg"));
    EXPECT_THAT(plot, HasSubstr("exp_weights (realistic)"));
}

TEST(OnlineEvalCommand, DriftWarmStartAndTargetController) {
    TempDir dir;
    const auto json = dir.file("drift.json");
    const auto r = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") +
                                    " --online --chain llama3.1-8b,llama3.1-405b --thresholds -0.36 --drift degrade:0.4 --seeds 2 --json " + json));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("after the switch (1531 queries)"));
    EXPECT_THAT(r.out, HasSubstr("fixed thresholds (-0.360)"));
    const auto j = nlohmann::json::parse(read_text(json));
    EXPECT_EQ(j["queries"], 3062);
    EXPECT_TRUE(j["after_switch"].contains("best_fixed"));

    const auto target = run_command(hiro("eval " + outcome_file("mmlu_llama_test.jsonl") +
                                         " --online --chain llama3.1-8b,llama3.1-405b --target 'escalation<=0.3' --seeds 2 --json -"));
    ASSERT_EQ(target.exit_code, 0) << target.out;
    const auto t = nlohmann::json::parse(target.out.substr(target.out.find('{')));
    EXPECT_EQ(t["learner"], "target");
    EXPECT_NEAR(t["window_escalation"].back().get<double>(), 0.3, 0.05);
}

TEST(OnlineEvalCommand, RefusesWhatItCannotReplay) {
    const auto file = outcome_file("mmlu_llama_test.jsonl");
    const auto no_chain = run_command(hiro("eval " + file + " --online"));
    EXPECT_NE(no_chain.exit_code, 0);
    EXPECT_THAT(no_chain.out, HasSubstr("--online needs --chain"));
    const auto four = run_command(hiro("eval " + file + " --online --chain llama3.2-1b,llama3.2-3b,llama3.1-8b,llama3.1-405b"));
    EXPECT_NE(four.exit_code, 0);
    EXPECT_THAT(four.out, HasSubstr("chains of 2 or 3 models"));
    const auto feedback = run_command(hiro("eval " + file + " --online --chain llama3.1-8b,llama3.1-405b --feedback psychic"));
    EXPECT_NE(feedback.exit_code, 0);
    EXPECT_THAT(feedback.out, HasSubstr("known: full, realistic"));
}

TEST(OnlineEvalCommand, ServeBuildsTheKindFromConfig) {
    TempDir dir;
    const auto config = dir.file("gw.yaml");
    std::ofstream(config) << "listen: 127.0.0.1:18999\n"
                             "tiers:\n"
                             "  - {name: edge, kind: openai, base_url: 'http://127.0.0.1:1/v1'}\n"
                             "  - {name: cloud, kind: openai, base_url: 'http://127.0.0.1:2/v1'}\n"
                             "policies:\n"
                             "  - {name: adaptive, kind: adaptive_cascade, tiers: [edge, cloud], thresholds: [-0.16], params: {lambda: 0.1}}\n";
    const auto ok = run_command(hiro("serve --check --config " + config));
    EXPECT_EQ(ok.exit_code, 0) << ok.out;
    std::ofstream(config, std::ios::app) << "  - {name: bad, kind: adaptive_cascade, tiers: [edge, cloud], params: {epsilon: 3}}\n";
    const auto bad = run_command(hiro("serve --check --config " + config));
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_THAT(bad.out, HasSubstr("epsilon must be between 0 and 1"));
}

}  // namespace
}  // namespace hiro::test
