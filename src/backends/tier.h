#pragma once

#include <optional>
#include <string>

#include "backends/task.h"
#include "core/openai_response.h"
#include "core/query.h"

namespace hiro::backends {

// One piece of a streamed answer: an OpenAI chunk as the tier produced it
// (the JSON text of one Server-Sent Event), and what hiro reads from it.
struct AnswerChunk {
    std::string json;
    core::AnswerDelta delta;
};

// Receives a streamed answer chunk by chunk; awaiting it is how a slow client
// slows the tier down. It throws when the client is gone.
class ChunkSink {
public:
    virtual ~ChunkSink() = default;
    virtual Task<void> accept(AnswerChunk& chunk) = 0;
    // Whether content already went on: the answer cannot be taken back, so
    // a failure after it is not retried from the start.
    virtual bool committed() const = 0;
};

struct AskOptions {
    bool need_logprobs = false;         // hiro will judge the answer by its tokens' log-probabilities
    ChunkSink* stream = nullptr;  // set: stream the answer into it as it is generated
    // Set when another tier can take the request: what is left of its latency
    // budget. A tier that predicts it cannot answer in time throws a
    // TierFailure of kind overflow at once instead of queueing the request.
    std::optional<double> budget_ms;
    // The query's task, as a task router predicts it: a pool with tagged
    // endpoints sends it only to endpoints tagged with it. When none is
    // admitted, it refuses the request (overflow) if `can_pass_on`, else asks any.
    std::string task;
    bool can_pass_on = false;
};

// One model tier: the in-process llama.cpp engine, an OpenAI-compatible
// upstream, ... `generate` is a coroutine: a tier waiting for its backend
// holds no thread. It throws TierFailure when the tier cannot answer, and
// operation_aborted when the caller was cancelled. Implementations are
// thread-safe: the gateway calls one tier from every I/O thread at once.
class Tier {
public:
    virtual ~Tier() = default;
    virtual const std::string& name() const = 0;
    // The answer; when streamed, each chunk went to the sink and the answer
    // carries no response body.
    virtual Task<core::Answer> generate(const core::Query& query, const AskOptions& options) = 0;
    // Answers an OpenAI /embeddings request (the client's body without its
    // "model") with the response body; throws TierFailure.
    virtual Task<std::string> embed(const core::Json& request);
    // How many requests the tier works on at once by its nature (the local
    // engine's compute pool); 0 = no limit of its own.
    virtual int capacity() const { return 0; }
    // Stops and joins whatever the tier runs on threads of its own; called
    // once the I/O threads have stopped, before their contexts are destroyed.
    virtual void stop() {}
};

}  // namespace hiro::backends
