#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/openai_response.h"
#include "core/query.h"
#include "server/gateway_config.h"
#include "server/limit_store.h"
#include "server/local_limit_store.h"
#include "server/metrics.h"
#include "server/redis_limit_store.h"
#include "server/request_trace.h"
#include "server/route.h"

namespace hiro::server {

// The admission and accounting stage of every generation and embedding
// request: checks the API key's limits and reserves the request's worst case
// before any tier is asked, and settles the reservation with what the request
// used once it has ended. Keeps per-key usage by UTC day and month either way.
class KeyLimiter {
public:
    KeyLimiter(std::map<std::string, KeyLimits> limits, const SharedState& state, Metrics& metrics);

    struct Verdict {
        std::optional<Reservation> held;  // admitted: settle it when the request ends
        int status = 0;                    // refused: 429 (a limit) or 503 (the store is down and state is closed)
        std::string message, type, code;
        std::int64_t retry_after_s = 0;
    };
    Task<Verdict> admit(const std::string& key, const Demand& worst);
    // Replaces the reservation with what the request used, off the request's
    // path (on `executor`; nothing waits for the store). A store that is down
    // keeps the worst case reserved: counted, not lost.
    void settle(const boost::asio::any_io_executor& executor, Reservation held, Demand used);
    // Every configured key's limits and its usage today and this month (/v1/usage, hiro usage).
    Task<core::Json> usage();

    const KeyLimits& limits_of(const std::string& key) const;
    // The shared store's connections (null without state.redis), for what else replicas share.
    const std::shared_ptr<RedisConnections>& redis() const { return redis_; }
    // Closes the shared store's connections; call while the I/O contexts exist.
    void close();

private:
    Task<void> settle_shared(Reservation held, Demand used);

    std::map<std::string, KeyLimits> limits_;  // by key name ("" when hiro has no API keys)
    SharedState state_;
    Metrics& metrics_;
    LocalLimitStore local_;
    std::shared_ptr<RedisConnections> redis_;
    std::unique_ptr<RedisLimitStore> shared_;
    std::string replica_;  // makes reservation ids unique across replicas
};

// Each API key's limits by name; without keys, one set ("") for every client.
std::map<std::string, KeyLimits> limits_by_key(const GatewayConfig& config);

// The most a request can use: every tier of the route asked (a cascade's
// worst case) with the whole body as prompt (each token of a byte-level
// vocabulary covers at least one byte, so its size bounds the prompt's
// tokens, chat template included) and max_tokens (or `default_completion`)
// generated, priced at each position's dearest tier or fallback.
Demand worst_case(const core::Query& query, const Route& route, std::int64_t default_completion);
// What a request used: every tier asked, prompt and completion tokens, priced.
Demand used_by(const RequestTrace& trace);

}  // namespace hiro::server
