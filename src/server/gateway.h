#pragma once

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "server/gateway_config.h"
#include "server/guarded_tier.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/response_channel.h"
#include "server/route.h"

namespace hiro::server {

// An HTTP request as the gateway needs it, independent of the HTTP library.
struct GatewayRequest {
    std::string method;
    std::string target;
    std::string authorization;  // the Authorization header
    std::string body;
};

// The OpenAI-compatible gateway's request handling: health, models, metrics,
// authentication, rate limits, admission control, and chat/completions on a
// pool of worker threads. hiro keeps no state between requests beyond
// counters, so replicas scale out behind any load balancer.
class Gateway {
public:
    // Builds every tier and route; throws core::Error naming what is wrong.
    explicit Gateway(GatewayConfig config);
    ~Gateway();

    // Called on an I/O thread for every request; returns at once. The answer
    // goes to `channel`, now or later from a worker thread.
    void handle(const GatewayRequest& request, const std::shared_ptr<ResponseChannel>& channel);

    // Refuse new requests (503) while those in flight finish.
    void start_draining() { draining_ = true; }
    int inflight() const { return inflight_.load(); }
    const GatewayConfig& config() const { return config_; }
    Metrics& metrics() { return metrics_; }

private:
    void handle_completion(const GatewayRequest& request, const std::shared_ptr<ResponseChannel>& channel, bool chat);
    bool authorized(const std::string& authorization, std::string& key_name) const;
    std::string models_json() const;

    GatewayConfig config_;
    Metrics metrics_;
    std::map<std::string, std::unique_ptr<GuardedTier>> tiers_;
    std::map<std::string, Route> routes_;  // policies and tiers, by the name clients use
    RateLimiter rate_limiter_;
    std::atomic<int> inflight_{0};
    std::atomic<int> queued_{0};
    std::atomic<bool> draining_{false};
    boost::asio::thread_pool workers_;
};

}  // namespace hiro::server
