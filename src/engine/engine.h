#pragma once

#include <functional>
#include <stop_token>
#include <string_view>
#include <vector>

#include <common.h>

#include "core/query.h"
#include "engine/context_pool.h"
#include "engine/model.h"

namespace hiro::engine {

struct GenerationRequest {
    std::vector<Token> prompt;
    core::GenerationParams params;          // max_tokens, stop strings, top_logprobs; and, without `sampling`, how to sample
    bool ignore_end_of_generation = false;  // benchmarks generate exactly max_tokens
    // llama-server's whole sampling chain (penalties, top-k, min-p, logit
    // biases, grammars, ...), as the local tier reads it from an OpenAI
    // request; null: params' temperature, top_p and seed alone.
    std::shared_ptr<const common_params_sampling> sampling = nullptr;
};

// The sampling chain of the simple parameters: temperature (0 = greedy),
// top_p and seed, nothing else.
common_params_sampling simple_sampling(const core::GenerationParams& params);

// An answer plus the timings benchmarks need.
struct Generation {
    core::Answer answer;              // text, tokens, usage, finish_reason, latency_ms, ttft_ms
    double prompt_ms = 0.0;           // decoding the prompt (prefill)
    std::vector<double> token_ms;     // when each generated token was ready, since the start
};

// Called with each generated token; returning false stops the generation
// (finish_reason "cancelled").
using TokenCallback = std::function<bool(const core::TokenLogprob&)>;

// The in-process llama.cpp tier: one loaded model shared by every request.
//
// Concurrency: each request decodes in its own context from a pool (one
// context per request), not as a sequence in a shared batch. Measured with
// `hiro bench --parallel N` on stories260K (1 thread per context, a shared
// 2-core machine): 2 requests reached 2930 tok/s in all with a context each
// and 2985 tok/s as 2 sequences in one batch (another run: 4781 vs 5514), so
// batching wins at most ~15% here. It would share weight reads, which matters
// for larger, memory-bound models, but it couples requests: one long prompt
// stalls every stream, and cancelling means evicting a sequence mid-batch.
// Separate contexts keep each request's latency and cancellation its own.
class Engine {
public:
    explicit Engine(ModelOptions options)
        : model_(std::move(options)), contexts_(model_), embedding_contexts_(model_, ContextPool::Use::embedding) {}

    const Model& model() const { return model_; }

    // Creates a pooled context and decodes one token in it, so that the first
    // request pays neither for context creation nor for paging in the mapped
    // weights (llama-server warms its slots up the same way).
    void warm_up();

    // Thread-safe. Throws an invalid_input Error when the prompt is empty or
    // does not fit the context; a stop request (from any thread, also during
    // prompt processing) ends it with finish_reason "cancelled".
    Generation generate(const GenerationRequest& request, const TokenCallback& on_token, std::stop_token stop);

    // Thread-safe. The text's embedding: the model's own pooling, or the mean
    // over its tokens' final hidden states when the model declares none. Not
    // normalised. A text longer than the context is embedded by its first
    // tokens. Throws an invalid_input Error for an empty text.
    std::vector<float> embed(std::string_view text) const;
    std::size_t embedding_size() const;

private:
    Model model_;
    ContextPool contexts_;
    mutable ContextPool embedding_contexts_;  // embed() is logically const
};

}  // namespace hiro::engine
