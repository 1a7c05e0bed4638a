// What hiro's generation step costs on top of llama.cpp's bare decode, in CPU
// time (robust on a shared machine, unlike wall-clock tokens/s):
//   build/bench/engine_overhead_bench
// BM_EngineGenerate is hiro's engine generating 128 tokens after BOS (greedy
// sampling, log-probabilities, detokenising); BM_BareDecode is llama-bench's
// tg loop (decode a random token, no sampling) on the same model and thread.
// Their ratio is hiro's intrinsic tg rate relative to llama-bench's.
#include <benchmark/benchmark.h>

#include <random>

#include "bench/llama_bench_loops.h"
#include "engine/engine.h"
#include "engine/token_scores.h"

namespace {

using namespace hiro;

constexpr int gen_tokens = 128;

engine::Engine& stories() {
    static engine::Engine e([] {
        engine::ModelOptions o;
        o.path = std::string(HIRO_SHARED_DIR) + "/models/stories260K.gguf";
        o.threads = 1;
        o.context = gen_tokens + 2;
        return o;
    }());
    return e;
}

void BM_EngineGenerate(benchmark::State& state) {
    engine::Engine& e = stories();
    engine::GenerationRequest request;
    request.prompt = {llama_vocab_bos(e.model().vocab())};
    request.params.max_tokens = gen_tokens + 1;  // the first comes from decoding BOS
    request.ignore_end_of_generation = true;
    for (auto _ : state) benchmark::DoNotOptimize(e.generate(request, nullptr, {}));
    state.SetItemsProcessed(state.iterations() * gen_tokens);
}

void BM_BareDecode(benchmark::State& state) {
    bench::LlamaBenchLoops loops(stories().model(), gen_tokens + 2);
    for (auto _ : state) loops.generate(gen_tokens + 1);
    state.SetItemsProcessed(state.iterations() * gen_tokens);
}

// One token's log-probability over the whole vocabulary (no alternatives).
void BM_ScoreToken(benchmark::State& state) {
    const engine::Model& model = stories().model();
    std::vector<float> logits(static_cast<std::size_t>(model.vocab_size()));
    std::mt19937 rng(2);
    std::normal_distribution<float> normal;
    for (float& l : logits) l = normal(rng);
    for (auto _ : state) benchmark::DoNotOptimize(engine::score_token(model, logits.data(), 5, static_cast<int>(state.range(0))));
}

}  // namespace

BENCHMARK(BM_EngineGenerate)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BareDecode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScoreToken)->Arg(0)->Arg(5)->Unit(benchmark::kMicrosecond);
