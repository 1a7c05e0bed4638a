#include "bench/concurrency_bench.h"

#include <ggml-cpu.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "core/error.h"
#include "engine/engine.h"
#include "engine/token_scores.h"

namespace hiro::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double contexts_rate(engine::Engine& engine, int requests, int gen) {
    engine::GenerationRequest request;
    request.prompt = {engine.model().start_token()};
    request.params.max_tokens = gen;
    request.ignore_end_of_generation = true;
    engine.generate(request, nullptr, {});  // warm-up
    std::vector<std::jthread> workers;
    const auto start = Clock::now();
    for (int i = 0; i < requests; ++i) workers.emplace_back([&] { engine.generate(request, nullptr, {}); });
    workers.clear();  // joins
    return requests * gen / seconds_since(start);
}

// N sequences in one context: each step decodes one token of every sequence.
double batched_rate(const engine::Model& model, int requests, int gen) {
    llama_context_params params = llama_context_default_params();
    params.n_ctx = static_cast<uint32_t>(requests * (gen + 2));
    params.n_batch = params.n_ubatch = static_cast<uint32_t>(std::max(requests, 32));
    params.n_seq_max = static_cast<uint32_t>(requests);
    params.n_threads = params.n_threads_batch = model.options().threads;
    params.no_perf = true;
    std::unique_ptr<llama_context, decltype(&llama_free)> ctx(llama_init_from_model(model.get(), params), llama_free);
    if (!ctx) throw core::Error(core::ErrorCode::unsupported, "llama.cpp could not create a batched context");
    ggml_threadpool_params tp = ggml_threadpool_params_default(model.options().threads);
    std::unique_ptr<ggml_threadpool, decltype(&ggml_threadpool_free)> pool(ggml_threadpool_new(&tp), ggml_threadpool_free);
    llama_attach_threadpool(ctx.get(), pool.get(), nullptr);

    llama_batch batch = llama_batch_init(requests, 0, 1);
    std::vector<engine::Token> next(static_cast<std::size_t>(requests), model.start_token());
    auto step = [&](int position) {
        batch.n_tokens = requests;
        for (int s = 0; s < requests; ++s) {
            batch.token[s] = next[static_cast<std::size_t>(s)];
            batch.pos[s] = position;
            batch.n_seq_id[s] = 1;
            batch.seq_id[s][0] = s;
            batch.logits[s] = 1;
        }
        if (llama_decode(ctx.get(), batch) != 0) throw core::Error(core::ErrorCode::internal, "batched llama_decode failed");
        const int n = model.vocab_size();
        for (int s = 0; s < requests; ++s) {
            const float* logits = llama_get_logits_ith(ctx.get(), s);
            const auto best = static_cast<engine::Token>(std::max_element(logits, logits + n) - logits);
            engine::score_token(model, logits, best, 0);  // the same per-token work as the engine
            next[static_cast<std::size_t>(s)] = best;
        }
    };
    step(0);  // warm-up and the first token, as in the per-context runs
    const auto start = Clock::now();
    for (int p = 1; p < gen; ++p) step(p);
    const double rate = requests * (gen - 1) / seconds_since(start);
    llama_batch_free(batch);
    return rate;
}

}  // namespace

ConcurrencyResult run_concurrency_bench(const EngineBenchOptions& o, int requests) {
    if (requests < 1) throw core::Error(core::ErrorCode::invalid_input, "--parallel must be at least 1");
    engine::ModelOptions model_options;
    model_options.path = o.model;
    model_options.threads = o.threads;
    model_options.context = o.gen_tokens + 2;
    engine::Engine engine(model_options);
    ConcurrencyResult r;
    r.requests = requests;
    spdlog::info("hiro: {} concurrent tg{} requests, one context each", requests, o.gen_tokens);
    r.contexts_tokens_per_s = contexts_rate(engine, requests, o.gen_tokens);
    spdlog::info("hiro: {} tg{} sequences in one batch", requests, o.gen_tokens);
    r.batched_tokens_per_s = batched_rate(engine.model(), requests, o.gen_tokens);
    return r;
}

}  // namespace hiro::bench
