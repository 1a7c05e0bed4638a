// `hiro hi` and `hiro simulate` as a user runs them: the real binary on real data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

TEST(HiCommand, TrainsReportsAndFeedsTheSimulator) {
    TempDir dir;
    const std::string small = " --cache " + dir.file("cache") + " --train-limit 3000 --validation 2000 --tiny-epochs 1 --remote-epochs 1 --exit-epochs 1";
    auto r = run_command(hiro("hi" + small + " --json " + dir.file("hi.json") + " --plot " + dir.file("hi.svg")));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("decision modules fitted on validation, all figures on test"));
    EXPECT_THAT(r.out, HasSubstr("mcu over ble"));
    EXPECT_THAT(r.out, HasSubstr("EE-HI vs HI"));
    const auto j = nlohmann::json::parse(read_text(dir.file("hi.json")));
    EXPECT_EQ(j["scenarios"].size(), 6u);
    EXPECT_EQ(j["decision_modules"]["fitted_on"], "validation");
    EXPECT_EQ(j["models"][0]["trained"], true);
    EXPECT_THAT(read_text(dir.file("hi.svg")), HasSubstr("HI (max-softmax threshold)"));

    // A second run loads the cached GGUF models instead of training; --online
    // streams the same test outcomes through a self-tuning cascade.
    // streams the same test outcomes through a self-tuning cascade, then again
    // with the tiny model degraded half-way, against the validation-fitted threshold.
    r = run_command(hiro("hi" + small + " --online --json " + dir.file("again.json") + " --online-plot " + dir.file("online.svg")));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto again = nlohmann::json::parse(read_text(dir.file("again.json")));
    EXPECT_EQ(again["models"][0]["trained"], false);
    EXPECT_EQ(again["models"][1]["test_accuracy"], j["models"][1]["test_accuracy"]);
    EXPECT_THAT(r.out, HasSubstr("online exp_weights cascade tiny -> remote on hiro hi's test outcomes"));
    const auto& stationary = again["online"]["stationary"];
    ASSERT_EQ(stationary["checkpoints"].size(), 4u);
    EXPECT_LT(stationary["checkpoints"][3]["regret_per_query"].get<double>(), stationary["checkpoints"][0]["regret_per_query"].get<double>());
    EXPECT_EQ(stationary["fixed"]["thresholds"].size(), 1u) << "the threshold of least loss on the validation outcomes";
    EXPECT_TRUE(std::filesystem::exists(again["validation_outcome_file"].get<std::string>()));
    const auto& after = again["online"]["drift"]["after_switch"];
    EXPECT_LT(after["loss"].get<double>(), after["fixed_loss"].get<double>()) << "after the tiny model degrades, learning beats the fixed threshold";
    EXPECT_THAT(read_text(dir.file("online-drift.svg")), HasSubstr("drift after query"));
    EXPECT_THAT(read_text(dir.file("online-stationary.svg")), HasSubstr("<svg"));

    // hiro simulate replays the per-sample test outcomes hiro hi wrote.
    r = run_command(hiro("simulate " + j["outcome_file"].get<std::string>() + " --devices 20 --samples 20000 --device pi --link wifi"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("EE-HI"));
    EXPECT_THAT(r.out, HasSubstr("events/s"));
}

TEST(HiCommand, ErrorsSayWhatIsWrong) {
    auto r = run_command(hiro("hi --data /nonexistent"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("apt-get install dataset-fashion-mnist"));
    r = run_command(hiro("hi --profiles /nonexistent.yaml"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("cannot open profile file /nonexistent.yaml"));
}

TEST(SimulateCommand, EdgeSlmWithCloudFallbackOnRecordedOutcomes) {
    TempDir dir;
    const auto r = run_command(hiro("simulate " + outcome_file("mmlu_llama_test.jsonl") +
                                    " --local llama3.1-8b --remote llama3.1-405b --threshold -0.3 --devices 50 --samples 76550 --rate 0.05"
                                    " --json " + dir.file("sim.json") + " --plot " + dir.file("sim.svg")));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("edge -> cloud cascade"));
    const auto j = nlohmann::json::parse(read_text(dir.file("sim.json")));
    ASSERT_EQ(j["strategies"].size(), 3u);
    // 50 devices x 1,531 samples: each device replays every recorded query once.
    EXPECT_NEAR(j["strategies"][0]["accuracy"].get<double>(), 0.634, 0.001);  // llama3.1-8b alone
    EXPECT_NEAR(j["strategies"][1]["accuracy"].get<double>(), 0.852, 0.001);  // llama3.1-405b alone
    EXPECT_GT(j["events_per_s"].get<double>(), 0.0);
    EXPECT_THAT(read_text(dir.file("sim.svg")), HasSubstr("<svg"));
}

TEST(SimulateCommand, ErrorsSayWhatIsWrong) {
    auto r = run_command(hiro("simulate " + outcome_file("mmlu_llama_test.jsonl") + " --device toaster"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("no device 'toaster'"));
    EXPECT_THAT(r.out, HasSubstr("(it has: cloud-gpu-a100, jetson, jetson-orin-nano, mcu, pi, raspberry-pi-5)"));
    r = run_command("HIRO_CACHE=/nonexistent " + hiro("simulate"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("run `hiro hi` first"));
    r = run_command(hiro("simulate " + outcome_file("mmlu_llama_test.jsonl") + " --local gpt-9"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("gpt-9"));
}

}  // namespace
}  // namespace hiro::test
