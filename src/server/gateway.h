#pragma once

#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "server/access_log.h"
#include "server/cascade_tuning.h"
#include "server/learner_state_store.h"
#include "server/client_stream.h"
#include "server/gateway_config.h"
#include "server/guarded_tier.h"
#include "server/metrics.h"
#include "server/key_limiter.h"
#include "server/shared_breakers.h"
#include "server/request_trace.h"
#include "server/route.h"

namespace hiro::server {

// Declares every metric the gateway serves (help text, labels, buckets).
void declare_gateway_metrics(Metrics& metrics);

// An HTTP request as the gateway needs it, independent of the HTTP library.
struct GatewayRequest {
    std::string method;
    std::string target;
    std::string authorization;  // the Authorization header
    std::string origin;         // the Origin header (browsers; CORS)
    std::string cors_headers;   // Access-Control-Request-Headers of a preflight
    std::string deadline_ms;    // x-hiro-deadline-ms: the request's latency budget
    std::string body;
};

// The OpenAI-compatible gateway's request handling: liveness and readiness,
// models, metrics, usage, CORS, authentication, limits per API key (request,
// token and spend, per process or shared through Redis), admission control,
// chat/completions through their routes and embeddings through a tier, with
// an access log. Every request is a coroutine on the I/O thread of its
// connection; what replicas must share (the limits) lives in Redis, so they
// scale out behind any load balancer.
class Gateway {
public:
    // Builds every tier and route; throws core::Error naming what is wrong.
    explicit Gateway(GatewayConfig config);

    // Answers one request to `client`. Never throws but for cancellation.
    Task<void> handle(const GatewayRequest& request, ClientStream& client);

    // Refuse new requests (503) while those in flight finish.
    void start_draining() { draining_ = true; }
    int inflight() const { return inflight_.load(); }
    const GatewayConfig& config() const { return config_; }
    Metrics& metrics() { return metrics_; }
    // Starts what runs beside the requests (the shared breakers' poll) on `executor`; once, before serving.
    void start(const boost::asio::any_io_executor& executor);
    // Learns from the answers still waiting for feedback and persists every
    // learner's state; run on an I/O thread once the requests have drained.
    Task<void> save_learners();
    // Stops the tiers' own threads (local decoding) and closes the limit
    // store's connections once the I/O threads have stopped, before their
    // contexts (and the requests in them) are destroyed.
    void stop();

private:
    // What one request did, for the access log.
    struct Outcome {
        std::string key;  // the API key's name
        bool admin = false;  // the key may read every key's usage
        std::optional<RequestTrace> trace;
    };
    Task<void> dispatch(const GatewayRequest& request, const std::string& path, ClientStream& client, Outcome& outcome);
    Task<void> handle_completion(const GatewayRequest& request, ClientStream& client, bool chat, Outcome& outcome);
    Task<void> handle_embeddings(const GatewayRequest& request, ClientStream& client, Outcome& outcome);
    Task<void> handle_usage(ClientStream& client, const Outcome& outcome);
    Task<void> handle_feedback(const GatewayRequest& request, ClientStream& client, const Outcome& outcome);
    // Admission by the key's limits; false (and the refusal sent) if refused.
    Task<bool> admit(ClientStream& client, const std::string& key, const Demand& worst, std::optional<Reservation>& held);
    // A request cut off by its client keeps its worst case charged; rethrows `cut_off`.
    [[noreturn]] void charge_worst_case(const boost::asio::any_io_executor& executor, const Reservation& held, std::exception_ptr cut_off);
    bool authorized(const std::string& authorization, Outcome& outcome) const;
    bool cors_allowed(const std::string& origin) const;
    std::string models_json() const;
    void publish_endpoint_metrics();
    std::string readiness_json(bool& ready) const;
    void log_access(const GatewayRequest& request, const std::string& path, int status, double latency_ms, const Outcome& outcome);

    GatewayConfig config_;
    Metrics metrics_;
    AccessLog access_log_;
    std::map<std::string, std::unique_ptr<GuardedTier>> tiers_;
    std::map<std::string, Route> routes_;  // policies and tiers, by the name clients use
    KeyLimiter limiter_;
    std::unique_ptr<SharedBreakers> shared_breakers_;  // state.share_breakers
    // An adaptive cascade's live learning and where its state persists.
    struct Learner {
        std::shared_ptr<CascadeTuning> tuning;
        std::unique_ptr<LearnerStateStore> store;  // null: not persisted
        std::uint64_t saved_version = 0;
    };
    std::vector<Learner> learners_;
    // Builds a route's tuning, resumed from its saved state file; throws core::Error naming a state that does not fit.
    std::shared_ptr<CascadeTuning> start_tuning(const PolicySettings& policy, const std::shared_ptr<policy::AdaptiveCascade>& cascade);
    // Learns from expired answers every second and saves a changed state every save_every_s.
    Task<void> tend(Learner& learner);
    Task<void> save(Learner& learner);
    std::atomic<int> inflight_{0};
    std::atomic<bool> draining_{false};
};

}  // namespace hiro::server
