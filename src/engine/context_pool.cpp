#include "engine/context_pool.h"

#include "core/error.h"

namespace hiro::engine {

ContextPool::~ContextPool() {
    for (llama_context* ctx : idle_) llama_free(ctx);
}

ContextPool::Lease ContextPool::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            llama_context* ctx = idle_.back();
            idle_.pop_back();
            return Lease(*this, ctx);
        }
    }
    const ModelOptions& o = model_.options();
    llama_context_params params = llama_context_default_params();
    params.n_ctx = static_cast<uint32_t>(model_.context());
    params.n_batch = static_cast<uint32_t>(o.batch);
    params.n_ubatch = static_cast<uint32_t>(o.ubatch);
    params.n_seq_max = 1;
    params.n_threads = o.threads;
    params.n_threads_batch = o.threads;
    params.no_perf = true;
    llama_context* ctx = llama_init_from_model(model_.get(), params);
    if (ctx == nullptr) {
        throw core::Error(core::ErrorCode::unsupported,
                          "llama.cpp could not create a context of " + std::to_string(model_.context()) + " tokens for " + o.path +
                              " (out of memory? try a smaller context size)");
    }
    return Lease(*this, ctx);
}

void ContextPool::release(llama_context* ctx) {
    llama_memory_clear(llama_get_memory(ctx), true);
    llama_set_abort_callback(ctx, nullptr, nullptr);
    std::lock_guard lock(mutex_);
    idle_.push_back(ctx);
}

}  // namespace hiro::engine
