#pragma once

#include <chrono>
#include <functional>

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>
#include <optional>

#include "backends/endpoint_pool.h"
#include "backends/tier.h"
#include "backends/tier_failure.h"
#include "backends/async_semaphore.h"
#include "server/circuit_breaker.h"
#include "server/gateway_config.h"
#include "server/metrics.h"

namespace hiro::server {

using backends::Task;

// A tier behind the guards the config gives it: a bound on requests at once
// (waiting at most queue_timeout for a slot), a circuit breaker that skips it
// while it keeps failing, and retries: `retries` more attempts after any
// failure, and, within `retry_budget_ms`, waiting retries with exponential
// backoff and jitter (or the upstream's Retry-After) while the tier refuses
// connections, drops them before answering, or answers 502, 503 or 429, so
// that a restart of a few seconds loses nothing. Counts what it does in the
// gateway's metrics. All waiting is on timers: no thread is held.
class GuardedTier {
public:
    GuardedTier(TierSettings settings, std::unique_ptr<backends::EndpointPool> tier, Metrics& metrics);

    const std::string& name() const { return settings_.spec.name; }
    const TierSettings& settings() const { return settings_; }
    backends::EndpointPool& tier() { return *tier_; }
    const backends::EndpointPool& tier() const { return *tier_; }

    // Whether the tier can take requests, as far as hiro has seen: its
    // circuit is not open, its last request did not fail for want of a
    // connection, and one of its endpoints is admitted. With its circuit
    // state, last failure and endpoints, for /ready.
    core::Json readiness() const;

    // Throws backends::TierFailure when every attempt failed or the tier was
    // skipped (kind busy: circuit open or no free slot in time). Once a chunk
    // of a streamed answer went to the client, a failure is not retried.
    Task<core::Answer> generate(const core::Query& query, const backends::AskOptions& options);

    // Told when this tier's circuit opens here (to tell the other replicas).
    using CircuitOpened = std::function<void(const boost::asio::any_io_executor&, const std::string& tier, std::chrono::milliseconds cooldown)>;
    void on_circuit_open(CircuitOpened tell) { tell_open_ = std::move(tell); }
    // Skips the tier until `until`, as another replica's open circuit says.
    void hold_open(std::chrono::steady_clock::time_point until) { breaker_.hold_open(until); }

private:
    Task<void> wait_to_retry(const backends::TierFailure& failure, int attempt, std::chrono::steady_clock::time_point budget_end);

    TierSettings settings_;
    std::unique_ptr<backends::EndpointPool> tier_;
    Metrics& metrics_;
    CircuitBreaker breaker_;
    CircuitOpened tell_open_;
    std::unique_ptr<backends::AsyncSemaphore> slots_;  // null: unlimited
    mutable std::mutex outcome_mutex_;
    bool last_failed_ = false;
    std::string last_error_;
    std::chrono::system_clock::time_point last_error_at_;
};

}  // namespace hiro::server
