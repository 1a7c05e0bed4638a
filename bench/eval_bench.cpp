// Offline replay throughput on the largest real outcome file:
//   build/bench/eval_bench
// reports MB/s parsed, and the time of a 1,000-point threshold sweep for every
// pair of mmlupro_9models' nine models (against a replay-per-threshold baseline).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "core/outcome_reader.h"
#include "core/price_table.h"
#include "eval/replay.h"
#include "eval/two_tier_sweep.h"
#include "policy/registry.h"

namespace {

using namespace hiro;

const std::string mmlupro = std::string(HIRO_SHARED_DIR) + "/data/outcomes/mmlupro_9models.jsonl";

const core::OutcomeSet& priced_mmlupro() {
    static const core::OutcomeSet set = [] {
        core::OutcomeSet s = core::read_outcomes(mmlupro);
        core::apply_prices(s, core::load_price_table(std::string(HIRO_SOURCE_DIR) + "/config/prices/mmlupro_9models.yaml"));
        return s;
    }();
    return set;
}

void BM_ReadOutcomes(benchmark::State& state) {
    const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(mmlupro));
    for (auto _ : state) benchmark::DoNotOptimize(core::read_outcomes(mmlupro));
    state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_ReadOutcomes)->Unit(benchmark::kMillisecond);

// Every pair (cheaper model as weak), 1,000 thresholds each. The file records
// no confidence, so the escalation score is a seeded random router's: the
// sweep's cost does not depend on where the scores come from.
void BM_SweepAllPairs1000(benchmark::State& state) {
    const auto& set = priced_mmlupro();
    const auto scores = eval::random_scores(set, 1);
    std::size_t points = 0;
    for (auto _ : state) {
        for (std::size_t a = 0; a < set.models.size(); ++a) {
            for (std::size_t b = a + 1; b < set.models.size(); ++b) {
                const bool a_cheaper = set.total_cost(a) <= set.total_cost(b);
                eval::TwoTierSweep sweep(set, a_cheaper ? a : b, a_cheaper ? b : a, scores, eval::Payment::cascade);
                const auto curve = sweep.at_thresholds(sweep.even_thresholds(1000));
                points += curve.size();
                benchmark::DoNotOptimize(curve.data());
            }
        }
    }
    state.counters["pairs"] = 36;
    state.counters["points/s"] = benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SweepAllPairs1000)->Unit(benchmark::kMillisecond);

// The baseline a sweep avoids: replaying the policy once per threshold, O(n x T),
// for one pair only.
void BM_ReplayPerThresholdOnePair1000(benchmark::State& state) {
    const auto& set = priced_mmlupro();
    // The cascade needs a confidence: give the weak model the same random scores.
    static const core::OutcomeSet with_confidence = [&] {
        core::OutcomeSet s = set;
        const auto scores = eval::random_scores(s, 1);
        for (std::size_t i = 0; i < s.size(); ++i) s.records[i].models[0].confidence = scores[i];
        return s;
    }();
    eval::TwoTierSweep sweep(with_confidence, 0, 8, eval::random_scores(with_confidence, 1), eval::Payment::cascade);
    const auto thresholds = sweep.even_thresholds(1000);
    for (auto _ : state) {
        for (double t : thresholds) {
            auto policy = policy::make_policy({"cascade", {set.models[0], set.models[8]}, {t}, {}});
            benchmark::DoNotOptimize(eval::replay(*policy, with_confidence));
        }
    }
}
BENCHMARK(BM_ReplayPerThresholdOnePair1000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
