#include "server/guarded_tier.h"

namespace hiro::server {

using backends::FailureKind;
using backends::TierFailure;

GuardedTier::GuardedTier(TierSettings settings, std::unique_ptr<backends::Tier> tier, Metrics& metrics)
    : settings_(std::move(settings)),
      tier_(std::move(tier)),
      metrics_(metrics),
      breaker_(settings_.breaker_failures, settings_.breaker_cooldown) {
    if (settings_.max_concurrent > 0) slots_ = std::make_unique<std::counting_semaphore<>>(settings_.max_concurrent);
}

core::Answer GuardedTier::generate(const core::Query& query, const backends::TokenSink& on_token, std::stop_token stop) {
    const std::string& tier = name();
    if (!breaker_.allow()) {
        metrics_.add("hiro_upstream_errors_total", {tier, "circuit_open"});
        throw TierFailure(FailureKind::busy, 0, "", "tier '" + tier + "' is skipped: its circuit is open after repeated failures");
    }
    if (slots_ && !slots_->try_acquire_for(settings_.queue_timeout)) {
        metrics_.add("hiro_upstream_errors_total", {tier, "busy"});
        throw TierFailure(FailureKind::busy, 0, "", "tier '" + tier + "' has no free slot (max_concurrent " +
                                                        std::to_string(settings_.max_concurrent) + ")");
    }
    struct Release {
        std::counting_semaphore<>* s;
        ~Release() {
            if (s) s->release();
        }
    } release{slots_.get()};

    bool sent_tokens = false;
    const backends::TokenSink sink = [&](const core::TokenLogprob& t) {
        sent_tokens = true;
        return on_token ? on_token(t) : true;
    };
    for (int attempt = 0;; ++attempt) {
        try {
            core::Answer answer = tier_->generate(query, sink, stop);
            breaker_.record_success();
            metrics_.observe("hiro_tier_latency_seconds", {tier}, answer.latency_ms / 1000.0);
            metrics_.add("hiro_tokens_total", {tier, "prompt"}, static_cast<double>(answer.usage.prompt_tokens));
            metrics_.add("hiro_tokens_total", {tier, "completion"}, static_cast<double>(answer.usage.completion_tokens));
            metrics_.add("hiro_cost_usd_total", {tier}, answer.cost_usd);
            return answer;
        } catch (const TierFailure& f) {
            if (f.kind() == FailureKind::cancelled) throw;
            breaker_.record_failure();
            metrics_.add("hiro_upstream_errors_total", {tier, std::string(backends::to_string(f.kind()))});
            // Tokens already passed on cannot be taken back: the caller continues elsewhere.
            if (attempt >= settings_.retries || sent_tokens || stop.stop_requested()) throw;
        }
    }
}

}  // namespace hiro::server
