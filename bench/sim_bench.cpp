// Discrete-event simulator throughput at the scale:
//   build/bench/sim_bench
// simulates 1,000 devices x 1,000,000 samples of an edge SLM -> cloud LLM
// cascade replaying mmlu_llama_test's recorded outcomes over the shipped
// profiles (Wi-Fi, CPU edge server), and reports events/s (items_per_second).
#include <benchmark/benchmark.h>

#include "core/edge_profiles.h"
#include "core/outcome_reader.h"
#include "sim/simulation.h"

namespace {

using namespace hiro;

struct Setup {
    sim::Environment env;
    std::vector<sim::Strategy> strategies;
};

const Setup& setup() {
    static const Setup s = [] {
        const core::EdgeProfiles p = core::load_edge_profiles(std::string(HIRO_SOURCE_DIR) + "/config/edge/profiles.yaml");
        Setup out{{p.device("pi"), p.link("wifi"), p.server("edge-cpu"), p.cloud("cloud")}, {}};
        const core::OutcomeSet set = core::read_outcomes(std::string(HIRO_SHARED_DIR) + "/data/outcomes/mmlu_llama_test.jsonl");
        sim::TierSetup tiers;
        tiers.local = "llama3.2-3b";
        tiers.remote = "llama3.1-405b";
        tiers.local_on_device = false;
        tiers.threshold = -0.3;
        out.strategies = sim::build_strategies(set, tiers, out.env.device, out.env.server, out.env.cloud);
        return out;
    }();
    return s;
}

// state.range(0) devices, state.range(1) samples; 0.001 queries per device per second keeps the edge server below saturation.
void BM_SimulateCascade(benchmark::State& state) {
    const Setup& s = setup();
    const sim::SimOptions o{static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)), 0.001, 1};
    std::uint64_t events = 0;
    for (auto _ : state) {
        const sim::SimResult r = sim::simulate(s.strategies[2], s.env, o);
        events += r.events;
        benchmark::DoNotOptimize(r.mean_ms);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SimulateCascade)->Args({100, 100000})->Args({1000, 1000000})->Unit(benchmark::kMillisecond);

}  // namespace
