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
    int top_logprobs = 2;    // alternatives to request per token (confidence needs some)
    core::TokenPrice price;
    double energy_j_per_token = 0.0;
};

// Any OpenAI-compatible server as a tier: llama.cpp's llama-server, vLLM,
// Ollama, a cloud API. It always streams from the upstream (to measure time to
// first token, to pass tokens on as they come, and to know exactly what was
// received when a stream breaks) and always asks for logprobs. Failures
// surface as TierFailure with their kind.
class OpenAIUpstream final : public Tier {
public:
    explicit OpenAIUpstream(OpenAIUpstreamConfig config);

    const std::string& name() const override { return config_.name; }
    core::Answer generate(const core::Query& query, const TokenSink& on_token, std::stop_token stop) override;

private:
    OpenAIUpstreamConfig config_;
    HttpClient client_;
};

}  // namespace hiro::backends
