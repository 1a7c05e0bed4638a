#include "engine/context_pool.h"

#include "core/error.h"

namespace hiro::engine {

ContextPool::~ContextPool() {
    for (const auto& slot : idle_) {
        llama_free(slot.ctx);
        ggml_threadpool_free(slot.threads);
    }
}

ContextPool::Lease ContextPool::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            const Lease::Slot slot = idle_.back();
            idle_.pop_back();
            return Lease(*this, slot);
        }
    }
    const ModelOptions& o = model_.options();
    llama_context* ctx = create(LLAMA_POOLING_TYPE_UNSPECIFIED);
    if (llama_pooling_type(ctx) == LLAMA_POOLING_TYPE_NONE) {
        llama_free(ctx);
        ctx = create(LLAMA_POOLING_TYPE_MEAN);
    }
    ggml_threadpool_params threads = ggml_threadpool_params_default(o.threads);
    ggml_threadpool* pool = ggml_threadpool_new(&threads);
    if (pool == nullptr) {
        llama_free(ctx);
        throw core::Error(core::ErrorCode::internal, "cannot start a threadpool of " + std::to_string(o.threads) + " threads");
    }
    llama_attach_threadpool(ctx, pool, nullptr);
    return Lease(*this, {ctx, pool});
}

llama_context* ContextPool::create(enum llama_pooling_type pooling) const {
    const ModelOptions& o = model_.options();
    llama_context_params params = llama_context_default_params();
    params.n_ctx = static_cast<uint32_t>(model_.context());
    params.n_seq_max = 1;
    params.n_threads = o.threads;
    params.n_threads_batch = o.threads;
    params.no_perf = true;
    params.n_batch = params.n_ubatch = params.n_ctx;
    params.embeddings = true;
    params.pooling_type = pooling;
    llama_context* ctx = llama_init_from_model(model_.get(), params);
    if (ctx == nullptr) {
        throw core::Error(core::ErrorCode::unsupported,
                          "llama.cpp could not create a context of " + std::to_string(model_.context()) + " tokens for " + o.path +
                              " (out of memory? try a smaller context size)");
    }
    return ctx;
}

void ContextPool::release(Lease::Slot slot) {
    if (llama_memory_t memory = llama_get_memory(slot.ctx)) llama_memory_clear(memory, true);  // encoder-only models have none
    std::lock_guard lock(mutex_);
    idle_.push_back(slot);
}

}  // namespace hiro::engine
