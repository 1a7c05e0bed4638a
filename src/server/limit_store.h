#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/task.h"

namespace hiro::server {

using backends::Task;

// What one API key may use; 0 means no limit on that meter.
struct KeyLimits {
    double requests_per_minute = 0;
    double tokens_per_minute = 0;
    double budget_usd_per_day = 0;
    double budget_usd_per_month = 0;
    std::int64_t reserve_completion_tokens = 1024;  // reserved per tier for a request that sets no max_tokens
};

// `state:` in the config: where limits live when replicas share them.
struct SharedState {
    std::string redis_url;  // empty: each process keeps its own
    std::string redis_password;  // Redis's requirepass (from password_env), sent with AUTH
    bool fail_open = true;  // Redis unreachable: per-process limits (open) or 503 (closed)
    std::chrono::milliseconds timeout{100};  // the longest a Redis call may delay a request
    bool share_breakers = false;  // a tier's circuit opened by one replica is skipped by all
};

// Tokens and spend of a request: the worst case reserved at admission, or
// what it really used (every tier asked, priced as the access log prices it).
struct Demand {
    std::int64_t tokens = 0;
    double usd = 0.0;
};

// The UTC calendar periods budgets and usage are counted in.
struct Periods {
    std::int64_t now_ms = 0;  // Unix time
    std::string day;          // 2026-12-02
    std::string month;        // 2026-12
    std::int64_t day_ends_ms = 0, month_ends_ms = 0;
};
Periods periods_at(std::int64_t unix_ms);
Periods periods_now();

// One admitted request's hold on its key's meters, settled when it ends.
struct Reservation {
    std::string key;  // the API key's name
    std::string id;   // unique across replicas
    Demand reserved;
    Periods periods;          // when it was admitted: the day and month it is charged to
    bool tokens_metered = false;  // the key has a tokens-per-minute window this request is in
    bool shared = false;          // held in the shared store (else in this process)
};

// Why a request was refused: the limit reached, how much of it is used
// (reservations in flight included) and when enough of it frees up.
struct Refusal {
    std::string limit;  // requests_per_minute, tokens_per_minute, budget_usd_per_day, budget_usd_per_month
    double used = 0.0;
    std::int64_t retry_after_ms = 0;
};

// A key's usage in one period: what finished, and what is reserved by requests in flight.
struct PeriodUsage {
    std::string period;
    std::int64_t requests = 0, tokens = 0, in_flight = 0, reserved_tokens = 0;
    double cost_usd = 0.0, reserved_usd = 0.0;
};

// Where the meters live: this process (LocalLimitStore) or Redis, shared by
// every replica (RedisLimitStore). Both implement the same rules:
// - requests and tokens per minute are sliding 60-second windows of the
//   admitted requests (a request's tokens count from its admission);
// - budgets are the UTC day's and month's spend, reservations included;
// - a request is admitted while every meter is below its limit, and then
//   reserves its worst case on all of them at once; so concurrent requests
//   overshoot a limit by at most the reservations made before it was reached;
// - settling replaces the reservation with what the request used.
class LimitStore {
public:
    virtual ~LimitStore() = default;
    virtual Task<std::optional<Refusal>> reserve(const Reservation& r, const KeyLimits& limits) = 0;
    virtual Task<void> settle(const Reservation& r, const Demand& used, std::int64_t now_ms) = 0;
    // The key's usage for the day and the month of `periods`.
    virtual Task<std::vector<PeriodUsage>> usage(const std::string& key, const Periods& periods) = 0;
};

}  // namespace hiro::server
