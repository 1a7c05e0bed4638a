#include "backends/tier_factory.h"

#include "backends/local_tier.h"
#include "backends/openai_upstream.h"
#include "core/error.h"

namespace hiro::backends {

std::unique_ptr<Tier> make_tier(const TierSpec& spec) {
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
        auto engine = std::make_shared<engine::Engine>(std::move(model));
        engine->warm_up();  // a served tier answers its first request as fast as its later ones
        return std::make_unique<LocalTier>(std::move(engine),
                                           LocalTierOptions{spec.name, spec.price, spec.energy_j_per_token, 0.0, spec.slots, spec.defaults});
    }
    throw core::Error(core::ErrorCode::invalid_input, "tier '" + spec.name + "': unknown kind '" + spec.kind + "' (use local or openai)");
}

}  // namespace hiro::backends
