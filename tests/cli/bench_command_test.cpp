// `hiro bench` as a user runs it, on the real stories260K model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

const std::string small_run = " --threads 1 --prompt-tokens 32 --gen-tokens 16 --repetitions 2";

TEST(BenchCommand, MeasuresHiroAndLlamaBenchInOneRun) {
    TempDir dir;
    const auto json = dir.file("bench.json");
    const auto r = run_command(hiro("bench " + shared_model("stories260K.gguf") + small_run + " --device raspberry-pi-5 --json " + json));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("prompt processing pp32 (tok/s)"));
    EXPECT_THAT(r.out, HasSubstr("generation tg16 (tok/s)"));
    EXPECT_THAT(r.out, HasSubstr("inter-token latency p50 / p95 (ms)"));
    std::ifstream in(json);
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["threads"], 1);
    EXPECT_GT(j["hiro"]["pp_tokens_per_s"]["mean"].get<double>(), 0.0);
    EXPECT_GT(j["hiro"]["tg_tokens_per_s"]["mean"].get<double>(), 0.0);
    EXPECT_GT(j["hiro"]["peak_rss_bytes"].get<double>(), 0.0);
    EXPECT_LE(j["hiro"]["itl_p50_ms"].get<double>(), j["hiro"]["itl_p95_ms"].get<double>());
    EXPECT_GT(j["llama_bench"]["tg_tokens_per_s"]["mean"].get<double>(), 0.0);
    EXPECT_THAT(j["llama_bench"]["command"].get<std::string>(), HasSubstr("-t 1 -p 32 -n 16 -r 2 -o json"));
    EXPECT_GT(j["ratio"]["pp"].get<double>(), 0.0);
    EXPECT_GT(j["ratio"]["tg"].get<double>(), 0.0);
    // RAPL where the kernel allows it, else the Raspberry Pi profile.
    EXPECT_THAT(j["energy"]["label"].get<std::string>(), AnyOf("measured", "estimated"));
    EXPECT_GT(j["energy"]["tg_joules_per_token"].get<double>(), 0.0);
}

TEST(BenchCommand, ParallelMeasuresContextsAgainstOneBatch) {
    const auto r = run_command(hiro("bench " + shared_model("stories260K.gguf") + small_run + " --no-llama-bench --parallel 2 --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    EXPECT_EQ(j["concurrency"]["requests"], 2);
    EXPECT_GT(j["concurrency"]["contexts_tokens_per_s"].get<double>(), 0.0);
    EXPECT_GT(j["concurrency"]["batched_tokens_per_s"].get<double>(), 0.0);
    EXPECT_TRUE(j["llama_bench"].is_null());
}

TEST(BenchCommand, ErrorsSayWhatIsWrong) {
    auto r = run_command(hiro("bench /nonexistent.gguf"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("model file /nonexistent.gguf does not exist"));

    r = run_command(hiro("bench " + shared_model("stories260K.gguf") + small_run + " --device toaster"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("no device 'toaster' in"));

    r = run_command(hiro("bench " + shared_model("stories260K.gguf") + small_run + " --llama-bench /nonexistent/llama-bench"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("llama-bench not found at /nonexistent/llama-bench"));

    r = run_command(hiro("bench " + shared_model("stories260K.gguf") + " --gen-tokens 0"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("must each be at least 1"));
}

TEST(BenchCommand, HelpExplainsTheOptions) {
    const auto r = run_command(hiro("bench --help"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("--device"));
    EXPECT_THAT(r.out, HasSubstr("llama-bench"));
}

}  // namespace
}  // namespace hiro::test
