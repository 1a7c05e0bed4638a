#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "server/limit_store.h"
#include "server/redis_connection.h"

namespace hiro::server {

// The limits of every replica in one Redis: each check-and-reserve and each
// settlement is one call of a Lua script (limit_meters.lua), atomic on the
// server. Each I/O thread has a connection of its own, so a request talks to
// Redis from the thread it runs on. Calls throw StoreUnavailable when Redis
// does not answer within the timeout.
class RedisLimitStore : public LimitStore {
public:
    RedisLimitStore(RedisAddress address, std::chrono::milliseconds timeout);
    ~RedisLimitStore() override;

    Task<std::optional<Refusal>> reserve(const Reservation& r, const KeyLimits& limits) override;
    Task<void> settle(const Reservation& r, const Demand& used, std::int64_t now_ms) override;
    Task<std::vector<PeriodUsage>> usage(const std::string& key, const Periods& periods) override;

    // Closes every connection; call while their io_contexts still exist.
    void close();
    const RedisAddress& address() const { return address_; }

private:
    Task<RedisConnection*> connection();
    Task<core::Json> run_script(std::vector<std::string> keys_and_args);

    RedisAddress address_;
    std::chrono::milliseconds timeout_;
    std::string script_sha_;
    std::mutex mutex_;
    std::map<const void*, std::unique_ptr<RedisConnection>> connections_;  // by io_context
};

}  // namespace hiro::server
