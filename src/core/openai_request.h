#pragma once

#include <string>
#include <string_view>

#include "core/query.h"

namespace hiro::core {

// The OpenAI request format, both sides: what hiro's gateway reads from
// clients, and what it sends to OpenAI-compatible upstreams (llama-server,
// vLLM, Ollama, cloud APIs). hiro reads only what its own decisions need;
// every other field passes through untouched.

struct OpenAIRequest {
    Endpoint endpoint = Endpoint::chat;
    std::string model;           // empty: the gateway's default route
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage: a final usage chunk
    bool logprobs = false;       // the client asked for logprobs in its answer
    Query query;                 // the body without model, stream and stream_options
};

// Parses a client's request body; throws an invalid_input Error naming the
// field when something hiro relies on is malformed.
OpenAIRequest parse_openai_request(std::string_view body, Endpoint endpoint);

// What a tier sends upstream, beyond the client's fields.
struct UpstreamOptions {
    std::string model;            // the upstream's model name
    bool stream = false;          // ask for Server-Sent Events (then with a final usage chunk)
    bool need_logprobs = false;   // hiro judges the answer: ask for logprobs if the client did not
    int top_logprobs = 0;         // alternatives to ask for then (entropy and margin need some)
    Json defaults = Json::object();  // the config's values for fields the client left out
};

// The upstream request body: the query's fields, the config's defaults for
// the ones it lacks, and what `options` sets.
std::string upstream_request_body(const Query& query, const UpstreamOptions& options);

// Whether the query itself asks for per-token logprobs.
bool asks_for_logprobs(const Query& query);

}  // namespace hiro::core
