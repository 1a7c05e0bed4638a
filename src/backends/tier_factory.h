#pragma once

#include <memory>
#include <string>

#include "backends/endpoint_pool.h"
#include "backends/http_client.h"
#include "backends/tier.h"
#include "core/price_table.h"

namespace hiro::backends {

// Everything needed to build a tier, whatever reads it (the gateway's YAML
// config, `hiro record`'s --tier flags).
struct TierSpec {
    std::string name;
    std::string kind;        // "local" (in-process llama.cpp) or "openai" (any OpenAI-compatible URL)
    std::string model_path;  // local: the GGUF file
    int threads = 0;         // local: 0 = all cores
    int context = 4096;      // local: context size in tokens
    int slots = 0;           // local: requests decoded at once (0 = cores / threads)
    std::string base_url;    // openai: e.g. http://127.0.0.1:8080/v1
    std::string model;       // openai: the upstream's model name
    std::string api_key;     // openai: bearer token, empty for none
    std::string ca_file;     // openai over https: CA certificates to trust instead of the system's
    HttpTimeouts timeouts;
    HttpPoolLimits pool;
    core::Json defaults = core::Json::object();  // request fields set where the client did not
    core::TokenPrice price;
    double energy_j_per_token = 0.0;
    EndpointSettings endpoint;         // as one endpoint of a pool: weight, tags, max_concurrent
    std::vector<TierSpec> endpoints;   // a pool: each a local or openai spec; empty: the tier is this one endpoint
    PoolSettings balancing;            // how the pool spreads requests and watches its endpoints
};

// The tier as an EndpointPool of its endpoints (one, unless `endpoints` lists
// several), so that every tier is balanced, predicted and reported alike.
// Throws an invalid_input core::Error for an unknown kind or a spec that kind
// cannot use.
std::unique_ptr<EndpointPool> make_tier(const TierSpec& spec);

}  // namespace hiro::backends
