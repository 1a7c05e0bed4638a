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

TEST(BenchCommand, ConcurrencyComparesTheEngineWithLlamaServer) {
    const auto r = run_command(hiro("bench " + shared_model("stories260K.gguf") + " --threads 1 --prompt-tokens 8 --gen-tokens 8 --concurrency 1,3 --rounds 2" +
                                    " --shared-prefix 32 --llama-server " + HIRO_LLAMA_SERVER + " --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find("\n{") + 1));
    ASSERT_EQ(j["levels"].size(), 2u);
    EXPECT_EQ(j["levels"][1]["requests"], 3);
    for (const auto& level : j["levels"]) {
        for (const char* side : {"hiro", "llama_server"}) {
            EXPECT_GT(level[side]["tokens_per_s"].get<double>(), 0.0) << side;
            EXPECT_GT(level[side]["itl_ms"].get<double>(), 0.0) << side;
        }
        ASSERT_EQ(level["round_ratios"].size(), 2u) << "one ratio per round, the sides taking turns";
        ASSERT_EQ(level["round_cpu_ratios"].size(), 2u);
        const double by_rounds = (level["round_ratios"][0].get<double>() + level["round_ratios"][1].get<double>()) / 2;
        EXPECT_NEAR(level["ratio"].get<double>(), by_rounds, 1e-9) << "the ratio is the median of the rounds'";
        EXPECT_GT(level["ratio"].get<double>(), 0.0);
    }
    // A 32-token shared prefix: later requests decode only their own 9 tokens (the last shared one again, at most).
    const auto& prefix = j["shared_prefix"];
    EXPECT_EQ(prefix["prompt_tokens"], 40);
    EXPECT_LE(prefix["hiro"]["prompt_tokens_decoded"].get<double>(), 9.0);
    EXPECT_LE(prefix["llama_server"]["prompt_tokens_decoded"].get<double>(), 9.0);
}

TEST(BenchCommand, MatrixMeasuresEveryModelAtEveryThreadCount) {
    TempDir dir;
    const auto r = run_command(hiro("bench --matrix " + shared_model("stories260K.gguf") + " --threads 1,2 --prompt-tokens 16 --gen-tokens 8" +
                                    " --repetitions 2 --device raspberry-pi-5 --json " + dir.file("m.json") + " --plot " + dir.file("m.svg")));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("stories260K"));
    const auto j = nlohmann::json::parse(read_text(dir.file("m.json")));
    ASSERT_EQ(j["points"].size(), 2u);
    EXPECT_EQ(j["points"][0]["threads"], 1);
    EXPECT_EQ(j["points"][1]["threads"], 2);
    for (const auto& p : j["points"]) {
        EXPECT_EQ(p["quantization"], "all F32");
        EXPECT_NEAR(p["bits_per_weight"].get<double>(), 32.0, 2.0);
        EXPECT_GT(p["hiro"]["tg_cpu_tokens_per_s"].get<double>(), 0.0);
        EXPECT_GT(p["llama_bench_loops"]["tg_cpu_tokens_per_s"].get<double>(), 0.0);
        EXPECT_GT(p["cpu_ratio"]["tg"].get<double>(), 0.0);
        EXPECT_GT(p["energy"]["tg_tokens_per_joule"].get<double>(), 0.0);
        EXPECT_GT(p["usd_per_million_tokens"].get<double>(), 0.0);
        EXPECT_GT(p["hiro"]["peak_rss_bytes"].get<double>(), 0.0);
    }
    EXPECT_THAT(read_text(dir.file("m.svg")), HasSubstr("<svg"));
    EXPECT_THAT(read_text(dir.file("m-energy.svg")), HasSubstr("<svg"));
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

    r = run_command(hiro("bench " + shared_model("stories260K.gguf") + " --threads 1,2"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("several only with --matrix"));
}

TEST(BenchCommand, HelpExplainsTheOptions) {
    const auto r = run_command(hiro("bench --help"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("--device"));
    EXPECT_THAT(r.out, HasSubstr("llama-bench"));
}

}  // namespace
}  // namespace hiro::test
