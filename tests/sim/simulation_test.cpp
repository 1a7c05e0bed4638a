// The simulator on real recorded outcomes and on plans whose answer is known.
#include <gtest/gtest.h>

#include "core/outcome_reader.h"
#include "sim/simulation.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

sim::Environment environment() {
    sim::Environment env;
    env.device = {"dev", "", "test", 1e6, 0.0, 2.0, 0.5, 1e6, 0.0, {}};
    env.link = {"link", "", "test", 8e6, 10.0, 1e-6, 0.0};  // 1 MB/s: 1000 bytes take 1 ms
    env.server = {"srv", "", "test", 1, 1, 1.0, 1.0, 0, 0, "fifo"};
    env.cloud = {"cloud", "test", 100.0, 0.0};
    return env;
}

TEST(Simulation, LatencyAndEnergyOfAQuietSystemAreTheSumOfTheirParts) {
    // One sample every 10 s per device: nobody waits.
    const sim::Strategy hi{"HI", {{3.0f, 0, 0, 0, 0, true}, {3.0f, 2.0f, 0, 1000.0f, 0, false, false, true}}};
    sim::SimOptions o{4, 4000, 0.1, 1};
    const sim::SimResult r = sim::simulate(hi, environment(), o);
    EXPECT_EQ(r.samples, 4000u);
    EXPECT_NEAR(r.offload_share, 0.5, 1e-9);
    EXPECT_NEAR(r.accuracy, 0.5, 1e-9);
    // Local: 3 ms. Offloaded: 3 + 1 (upload) + 5 (half RTT) + 2 (server) + 5 = 16 ms.
    EXPECT_NEAR(r.p50_ms, 3.0, 1e-3);
    EXPECT_NEAR(r.mean_ms, (3.0 + 16.0) / 2, 0.05);
    // Energy: 2 W x 3 ms = 6 mJ each; offloaded + 1000 B x 1 uJ + 0.5 W x 13 ms = 7.5 mJ more.
    EXPECT_NEAR(r.energy_mj, 6.0 + 7.5 / 2, 0.05);
    EXPECT_LT(r.server_utilisation, 0.01);
}

TEST(Simulation, ASaturatedServerIsReportedAsTheBottleneck) {
    // 100 devices x 10 Hz offloading 2 ms jobs to one worker: offered load 2.
    const sim::Strategy offload{"full offload", {{0, 2.0f, 0, 100.0f, 0, true, false, true}}};
    const sim::SimResult r = sim::simulate(offload, environment(), {100, 20000, 10.0, 1});
    EXPECT_GT(r.server_utilisation, 0.95);
    EXPECT_GT(r.server_wait_ms, 100.0);
    EXPECT_GT(r.server_max_queue, 100u);
}

TEST(Simulation, ReplaysRealLanguageModelOutcomes) {
    const core::OutcomeSet set = core::read_outcomes(outcome_file("mmlu_llama_test.jsonl"));
    sim::TierSetup tiers;
    tiers.local = "llama3.1-8b";
    tiers.remote = "llama3.1-405b";
    tiers.local_on_device = false;
    tiers.threshold = -0.3;
    sim::Environment env = environment();
    env.server.decode_tokens_per_second = 50;
    env.server.prefill_tokens_per_second = 500;
    const auto strategies = sim::build_strategies(set, tiers, env.device, env.server, env.cloud);
    ASSERT_EQ(strategies.size(), 3u);
    const auto edge = sim::simulate(strategies[0], env, {10, 15310, 0.05, 1});
    const auto cloud = sim::simulate(strategies[1], env, {10, 15310, 0.05, 1});
    const auto cascade = sim::simulate(strategies[2], env, {10, 15310, 0.05, 1});
    // Every record replayed ten times: the accuracies are the file's.
    EXPECT_NEAR(edge.accuracy, set.accuracy(set.model_index("llama3.1-8b")), 1e-9);
    EXPECT_NEAR(cloud.accuracy, set.accuracy(set.model_index("llama3.1-405b")), 1e-9);
    EXPECT_GT(cascade.accuracy, edge.accuracy);
    EXPECT_GT(cascade.offload_share, 0.0);
    EXPECT_LT(cascade.offload_share, 1.0);
    EXPECT_GT(cloud.cloud_usd, cascade.cloud_usd);
}

}  // namespace
}  // namespace hiro::test
