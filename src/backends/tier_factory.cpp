#include "backends/tier_factory.h"

#include <filesystem>

#include "backends/local_tier.h"
#include "backends/openai_upstream.h"
#include "core/error.h"

namespace hiro::backends {

namespace {

std::unique_ptr<Tier> make_endpoint(const TierSpec& spec) {
    if (spec.kind == "openai") {
        return std::make_unique<OpenAIUpstream>(OpenAIUpstreamConfig{spec.name, spec.base_url, spec.model, spec.api_key, spec.ca_file,
                                                                     spec.timeouts, spec.pool, 2, spec.defaults, spec.price,
                                                                     spec.energy_j_per_token});
    }
    if (spec.kind == "local") {
        engine::ModelOptions model;
        model.path = spec.model_path;
        model.context = spec.context;
        model.threads = spec.threads;
        if (spec.slots > 0) model.sequences = spec.slots;  // each slot a sequence of the engine's batch
        auto engine = std::make_shared<engine::Engine>(std::move(model));
        engine->warm_up();  // a served tier answers its first request as fast as its later ones
        return std::make_unique<LocalTier>(std::move(engine),
                                           LocalTierOptions{spec.name, spec.price, spec.energy_j_per_token, 0.0, spec.slots, spec.defaults});
    }
    throw core::Error(core::ErrorCode::invalid_input, "tier '" + spec.name + "': unknown kind '" + spec.kind + "' (use local or openai)");
}

// The endpoint's name and probe address, where the config gave none.
EndpointSettings endpoint_settings(const TierSpec& spec) {
    EndpointSettings s = spec.endpoint;
    if (spec.kind == "openai") {
        const HttpUrl url = HttpUrl::parse(spec.base_url);
        if (s.name.empty()) s.name = url.host + ":" + url.port;
        s.probe_url = (url.tls ? "https://" : "http://") + url.host + ":" + url.port;
    } else if (s.name.empty()) {
        s.name = std::filesystem::path(spec.model_path).filename().string();
    }
    return s;
}

}  // namespace

std::unique_ptr<EndpointPool> make_tier(const TierSpec& spec) {
    std::vector<std::pair<std::unique_ptr<Tier>, EndpointSettings>> endpoints;
    for (const TierSpec& e : spec.endpoints.empty() ? std::vector<TierSpec>{spec} : spec.endpoints) {
        endpoints.emplace_back(make_endpoint(e), endpoint_settings(e));
    }
    return std::make_unique<EndpointPool>(spec.name, spec.balancing, std::move(endpoints));
}

}  // namespace hiro::backends
