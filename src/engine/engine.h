#pragma once

#include <functional>
#include <stop_token>
#include <string_view>
#include <vector>

#include <common.h>

#include "core/query.h"
#include "engine/batch_decoder.h"
#include "engine/context_pool.h"
#include "engine/model.h"

namespace hiro::engine {

struct GenerationRequest {
    std::vector<Token> prompt;
    core::GenerationParams params;          // max_tokens, stop strings, top_logprobs; and, without `sampling`, how to sample
    bool ignore_end_of_generation = false;  // benchmarks generate exactly max_tokens
    // Reuse the longest cached prefix of an earlier prompt (llama-server's
    // cache_prompt); false: decode all of it, and keep nothing for later.
    bool cache_prompt = true;
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
    int prompt_tokens_reused = 0;     // of the prompt, tokens whose KV an earlier request left cached
    std::vector<double> token_ms;     // when each generated token was ready, since the start
};

// Called with each generated token; returning false stops the generation
// (finish_reason "cancelled").
using TokenCallback = std::function<bool(const core::TokenLogprob&)>;

// The in-process llama.cpp tier: one loaded model shared by every request.
//
// Concurrency: requests in flight decode together, one KV sequence each in a
// shared context (BatchDecoder, as llama-server's slots with continuous
// batching), up to ModelOptions::sequences at once; more wait for a free
// sequence. Batching reads the weights once per step for every request: on a
// 1B model (Q4_0, 1 thread) 4 requests reached 32 tok/s in all against 18
// for one, where a context per request (what this engine did before) needs a
// thread pool per request and falls apart beyond the cores
// (docs/bench-and-record.md has the figures). Each request still samples,
// streams and is cancelled on its own.
class Engine {
public:
    explicit Engine(ModelOptions options)
        : model_(std::move(options)), decoder_(model_, model_.options().sequences), embedding_contexts_(model_) {}

    const Model& model() const { return model_; }

    // Creates the generation context and decodes one token in it, so that the
    // first request pays neither for context creation nor for paging in the
    // mapped weights (llama-server warms its slots up the same way).
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
    BatchDecoder decoder_;
    mutable ContextPool embedding_contexts_;  // embed() is logically const
};

}  // namespace hiro::engine
