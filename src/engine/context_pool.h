#pragma once

#include <llama.h>

#include <mutex>
#include <vector>

#include "engine/model.h"

namespace hiro::engine {

// Contexts (KV cache + compute buffers) for one model, one per request in
// flight. A finished request's context is cleared and reused rather than
// freed, so a request pays for context creation only when more requests run
// at once than ever before.
class ContextPool {
public:
    explicit ContextPool(const Model& model) : model_(model) {}
    ~ContextPool();
    ContextPool(const ContextPool&) = delete;
    ContextPool& operator=(const ContextPool&) = delete;

    // A context held by one request; it goes back to the pool on destruction.
    class Lease {
    public:
        Lease(ContextPool& pool, llama_context* ctx) : pool_(&pool), ctx_(ctx) {}
        ~Lease() { pool_->release(ctx_); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        llama_context* get() const { return ctx_; }

    private:
        ContextPool* pool_;
        llama_context* ctx_;
    };

    Lease acquire();

private:
    void release(llama_context* ctx);

    const Model& model_;
    std::mutex mutex_;
    std::vector<llama_context*> idle_;
};

}  // namespace hiro::engine
