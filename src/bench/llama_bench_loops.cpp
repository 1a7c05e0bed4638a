#include "bench/llama_bench_loops.h"

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace hiro::bench {

LlamaBenchLoops::LlamaBenchLoops(const engine::Model& model, int context) : model_(model) {
    const engine::ModelOptions& o = model.options();
    llama_context_params params = llama_context_default_params();
    params.n_ctx = static_cast<uint32_t>(context);
    params.n_batch = static_cast<uint32_t>(o.batch);
    params.n_ubatch = static_cast<uint32_t>(o.ubatch);
    params.n_threads = params.n_threads_batch = o.threads;
    params.no_perf = true;
    ctx_ = llama_init_from_model(model.get(), params);
    if (ctx_ == nullptr) throw core::Error(core::ErrorCode::unsupported, "llama.cpp could not create a reference context for " + o.path);
    ggml_threadpool_params threads = ggml_threadpool_params_default(o.threads);
    threads_ = ggml_threadpool_new(&threads);
    if (threads_ == nullptr) throw core::Error(core::ErrorCode::internal, "cannot start a threadpool of " + std::to_string(o.threads) + " threads");
    llama_attach_threadpool(ctx_, threads_, nullptr);
}

LlamaBenchLoops::~LlamaBenchLoops() {
    llama_free(ctx_);
    ggml_threadpool_free(threads_);
}

void LlamaBenchLoops::prompt(int n) {
    llama_memory_clear(llama_get_memory(ctx_), false);
    std::vector<engine::Token> tokens(static_cast<std::size_t>(n));
    for (auto& t : tokens) t = static_cast<engine::Token>(rng_() % static_cast<unsigned>(model_.vocab_size()));
    if (llama_vocab_get_add_bos(model_.vocab())) tokens[0] = llama_vocab_bos(model_.vocab());
    const int batch = model_.options().batch;
    for (int at = 0; at < n; at += batch) {
        if (llama_decode(ctx_, llama_batch_get_one(tokens.data() + at, std::min(batch, n - at))) != 0) {
            throw core::Error(core::ErrorCode::internal, "llama_decode failed in the reference prompt loop");
        }
    }
    llama_synchronize(ctx_);
}

void LlamaBenchLoops::generate(int n) {
    llama_memory_clear(llama_get_memory(ctx_), false);
    engine::Token token = model_.start_token();
    for (int i = 0; i < n; ++i) {
        if (llama_decode(ctx_, llama_batch_get_one(&token, 1)) != 0) {
            throw core::Error(core::ErrorCode::internal, "llama_decode failed in the reference generation loop");
        }
        llama_synchronize(ctx_);
        token = static_cast<engine::Token>(rng_() % static_cast<unsigned>(model_.vocab_size()));
    }
}

}  // namespace hiro::bench
