#pragma once

#include <ggml-cpu.h>
#include <llama.h>

#include <mutex>
#include <vector>

#include "engine/model.h"

namespace hiro::engine {

// Embedding contexts for one model, one per text being embedded: embeddings
// on, pooled over the sequence (the model's own pooling, else the mean of its
// tokens' hidden states), and one batch as large as the context, since pooling
// needs the whole text at once. A finished request's context is cleared and
// reused rather than freed, so a request pays for context creation only when
// more run at once than ever before. Each context keeps its own CPU
// threadpool, as llama-server does.
class ContextPool {
public:
    explicit ContextPool(const Model& model) : model_(model) {}
    ~ContextPool();
    ContextPool(const ContextPool&) = delete;
    ContextPool& operator=(const ContextPool&) = delete;

    // A context held by one request; it goes back to the pool on destruction.
    class Lease {
    public:
        struct Slot {
            llama_context* ctx = nullptr;
            ggml_threadpool* threads = nullptr;
        };
        Lease(ContextPool& pool, Slot slot) : pool_(&pool), slot_(slot) {}
        ~Lease() { pool_->release(slot_); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        llama_context* get() const { return slot_.ctx; }

    private:
        ContextPool* pool_;
        Slot slot_;
    };

    Lease acquire();

private:
    void release(Lease::Slot slot);

    llama_context* create(enum llama_pooling_type pooling) const;

    const Model& model_;
    std::mutex mutex_;
    std::vector<Lease::Slot> idle_;
};

}  // namespace hiro::engine
