#pragma once

#include <memory>

#include "server/limit_store.h"
#include "server/redis_connection.h"

namespace hiro::server {

// The limits of every replica in one Redis: each check-and-reserve and each
// settlement is one call of a Lua script (limit_meters.lua), atomic on the
// server, on the calling I/O thread's connection. Calls throw
// StoreUnavailable when Redis does not answer within the timeout.
class RedisLimitStore : public LimitStore {
public:
    explicit RedisLimitStore(std::shared_ptr<RedisConnections> redis);
    // The commands each connection sends first: loading the limits script.
    static std::vector<std::vector<std::string>> handshake();

    Task<std::optional<Refusal>> reserve(const Reservation& r, const KeyLimits& limits) override;
    Task<void> settle(const Reservation& r, const Demand& used, std::int64_t now_ms) override;
    Task<std::vector<PeriodUsage>> usage(const std::string& key, const Periods& periods) override;

    const RedisAddress& address() const { return redis_->address(); }

private:
    Task<core::Json> run_script(std::vector<std::string> keys_and_args);

    std::shared_ptr<RedisConnections> redis_;
    std::string script_sha_;
};

}  // namespace hiro::server
