#include "backends/local_tier.h"

namespace hiro::backends {

LocalTier::LocalTier(std::shared_ptr<engine::Engine> engine, LocalTierOptions options)
    : engine_(std::move(engine)), options_(std::move(options)) {
    if (options_.name.empty()) options_.name = engine_->model().options().path;
}

core::Answer LocalTier::generate(const core::Query& query, const TokenSink& on_token, std::stop_token stop) {
    engine::GenerationRequest request{engine_->model().prompt_tokens(query), query.params, false};
    core::Answer answer = engine_->generate(request, on_token, std::move(stop)).answer;
    const auto& u = answer.usage;
    if (options_.price) answer.cost_usd = options_.price->cost(u.prompt_tokens, u.completion_tokens);
    answer.energy_j = options_.joules_per_token * static_cast<double>(u.prompt_tokens + u.completion_tokens) +
                      options_.watts * answer.latency_ms / 1000.0;
    return answer;
}

}  // namespace hiro::backends
