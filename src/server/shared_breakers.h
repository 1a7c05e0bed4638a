#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "server/guarded_tier.h"
#include "server/redis_connection.h"

namespace hiro::server {

// Circuit breakers shared by every replica (`state.share_breakers`): a tier
// whose circuit opens on one replica is published in Redis until its
// cooldown ends, and each replica polls what is published every 250 ms and
// skips those tiers too. Polling keeps Redis off the request path; a tier
// opened elsewhere is skipped here within a poll.
class SharedBreakers {
public:
    SharedBreakers(std::shared_ptr<RedisConnections> redis, std::map<std::string, GuardedTier*> tiers);

    // Starts polling on `executor`'s I/O thread (once, when the server starts).
    void start(const boost::asio::any_io_executor& executor);
    // Tells every replica that `tier` failed here: skip it for `cooldown`.
    void publish(const boost::asio::any_io_executor& executor, const std::string& tier, std::chrono::milliseconds cooldown);

private:
    Task<void> poll();
    Task<void> set(std::string tier, std::chrono::milliseconds cooldown);

    std::shared_ptr<RedisConnections> redis_;
    std::map<std::string, GuardedTier*> tiers_;
};

}  // namespace hiro::server
