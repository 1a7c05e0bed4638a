#pragma once

#include <string>

#include "backends/http_client.h"
#include "backends/tier.h"
#include "core/price_table.h"

namespace hiro::backends {

struct OpenAIUpstreamConfig {
    std::string name;        // the tier's name in hiro
    std::string base_url;    // e.g. http://127.0.0.1:8080/v1
    std::string model;       // the model name the upstream expects
    std::string api_key;     // sent as a bearer token when not empty
    std::string ca_file;     // https: CAs to trust instead of the system's
    HttpTimeouts timeouts;
    HttpPoolLimits pool;
    int top_logprobs = 2;    // alternatives to ask for when hiro judges an answer (entropy and margin need some)
    core::Json defaults = core::Json::object();  // request fields the config sets where the client did not
    core::TokenPrice price;
    double energy_j_per_token = 0.0;
};

// Any OpenAI-compatible server as a tier: llama.cpp's llama-server, vLLM,
// Ollama, a cloud API. The client's request goes on as it is (hiro sets the
// model, stream, and logprobs when it must judge the answer); the answer
// comes back as the upstream gave it: one JSON body, or, when streaming,
// each Server-Sent Event handed on as it arrives. Failures surface as
// TierFailure with their kind.
class OpenAIUpstream final : public Tier {
public:
    explicit OpenAIUpstream(OpenAIUpstreamConfig config);

    const std::string& name() const override { return config_.name; }
    Task<core::Answer> generate(const core::Query& query, const AskOptions& options) override;
    Task<std::string> embed(const core::Json& request) override;

private:
    std::string who() const;
    std::vector<HttpHeader> headers(bool stream) const;
    Task<std::string> post(const char* path, std::string body);
    Task<void> read_stream(HttpResponse& response, const core::Query& query, ChunkSink& sink, core::Answer& answer,
                           std::chrono::steady_clock::time_point start);

    OpenAIUpstreamConfig config_;
    HttpClient client_;
};

}  // namespace hiro::backends
