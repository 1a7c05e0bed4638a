#pragma once

#include <memory>
#include <semaphore>

#include "backends/tier.h"
#include "backends/tier_failure.h"
#include "server/circuit_breaker.h"
#include "server/gateway_config.h"
#include "server/metrics.h"

namespace hiro::server {

// A tier behind the guards the config gives it: a limit on concurrent
// requests (waiting at most queue_timeout for a slot), retries, and a circuit
// breaker that skips it while it keeps failing. Counts what it does in the
// gateway's metrics.
class GuardedTier {
public:
    GuardedTier(TierSettings settings, std::unique_ptr<backends::Tier> tier, Metrics& metrics);

    const std::string& name() const { return settings_.spec.name; }
    const TierSettings& settings() const { return settings_; }

    // Throws backends::TierFailure when every attempt failed or the tier was
    // skipped (kind busy: circuit open or no free slot in time).
    core::Answer generate(const core::Query& query, const backends::TokenSink& on_token, std::stop_token stop);

private:
    TierSettings settings_;
    std::unique_ptr<backends::Tier> tier_;
    Metrics& metrics_;
    CircuitBreaker breaker_;
    std::unique_ptr<std::counting_semaphore<>> slots_;  // null: unlimited
};

}  // namespace hiro::server
