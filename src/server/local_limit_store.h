#pragma once

#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

#include "server/limit_store.h"

namespace hiro::server {

// The limits in this process, by the same rules as RedisLimitStore (see
// LimitStore): what a single replica enforces, and what every replica falls
// back on when the shared store is down and `on_unavailable` is open.
class LocalLimitStore : public LimitStore {
public:
    Task<std::optional<Refusal>> reserve(const Reservation& r, const KeyLimits& limits) override;
    Task<void> settle(const Reservation& r, const Demand& used, std::int64_t now_ms) override;
    Task<std::vector<PeriodUsage>> usage(const std::string& key, const Periods& periods) override;

    // The same, without a coroutine (the tasks above wrap these).
    std::optional<Refusal> reserve_now(const Reservation& r, const KeyLimits& limits);
    void settle_now(const Reservation& r, const Demand& used, std::int64_t now_ms);
    std::vector<PeriodUsage> usage_now(const std::string& key, const Periods& periods);

private:
    static constexpr std::int64_t window_ms = 60000;
    struct TokenEntry {
        std::int64_t at_ms;
        std::string id;
        std::int64_t tokens;
    };
    struct Meters {
        std::deque<std::int64_t> requests;  // admission times in the window
        std::list<TokenEntry> tokens;       // oldest first
        std::unordered_map<std::string, std::list<TokenEntry>::iterator> token_of;
        std::int64_t token_sum = 0;
        std::map<std::string, PeriodUsage> periods;  // by day or month
    };
    void purge(Meters& m, std::int64_t now_ms);

    std::mutex mutex_;
    std::map<std::string, Meters> keys_;
};

}  // namespace hiro::server
