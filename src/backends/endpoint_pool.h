#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "backends/async_semaphore.h"
#include "backends/endpoint_balancer.h"
#include "backends/tier.h"
#include "backends/tier_failure.h"
#include "core/service_estimate.h"

namespace hiro::backends {

// What the config says of one endpoint of a pool.
struct EndpointSettings {
    std::string name;                // for metrics and traces; default: host:port, or the model file
    double weight = 1.0;             // share of the traffic relative to the others
    std::vector<std::string> tags;   // what it can do (task, domain, language, max context), for capability routing
    int max_concurrent = 0;          // requests sent to it at once; more wait in hiro (0 = its own slots, or no limit)
    std::string probe_url;           // http[s]://HOST:PORT of its health and load pages; empty for a local model
};

// How a pool spreads requests and watches its endpoints.
struct PoolSettings {
    std::string balance = "least_outstanding";  // a name in the balancer registry (endpoint_balancer.h)
    std::string health_path = "/health";
    std::chrono::milliseconds health_interval{0};  // 0: no active health checks
    std::chrono::milliseconds health_timeout{1000};
    std::string load_source = "none";               // none, metrics (llama-server --metrics) or slots (/slots)
    std::chrono::milliseconds load_interval{1000};
    int eject_after = 3;                            // failures in a row that eject an endpoint (0 = never)
    std::chrono::milliseconds ejection{5000};       // first ejection; each further one lasts that much longer
    std::chrono::milliseconds slow_start{0};        // a re-admitted endpoint's share ramps up over this
    std::chrono::milliseconds queue_timeout{10000}; // how long a request waits for one of an endpoint's slots
};

// What the gateway shows of an endpoint (/metrics, /ready).
struct EndpointStatus {
    std::string name;
    bool admitted = true;  // healthy and not ejected
    bool healthy = true;   // its last health check passed
    std::string why_not;   // when not admitted
    int outstanding = 0;   // sent and waiting to be sent by hiro
    std::size_t queued = 0;  // of those, waiting in hiro for a slot
    double polled_busy = -1, polled_slots = -1;  // its own load, when polled (-1: unknown)
    std::uint64_t requests = 0, failures = 0, ejections = 0;
    std::optional<double> service_ms;    // its estimated service time
    std::optional<double> predicted_ms;  // what a request arriving now would take there
    double last_latency_ms = 0.0;        // the last answer's measured latency
    double last_predicted_ms = 0.0;      // what had been predicted for it
    std::vector<std::string> tags;
};

struct Endpoint;

// A tier served by several endpoints (OpenAI-compatible servers, or a local
// model among them), as the edge boxes of a cluster. Each request goes to one
// endpoint chosen by the pool's balancer among those admitted; an endpoint
// that refuses connections is ejected at once and one that fails
// `eject_after` times in a row for a while (longer each time), and re-admitted
// with a slow start; active health checks and load polling run on a thread of
// the pool's own, asynchronously. A request that fails on one endpoint is
// tried on the next: from the start when nothing of its answer went out, else
// continuing the stream from the text already sent, so losing an endpoint
// loses no request. With a latency budget, a request whose
// predicted latency on the chosen endpoint (core::ServiceEstimate: its queue
// and service time) does not fit is refused at once with an overflow failure,
// for the next tier to answer. Thread-safe.
class EndpointPool final : public Tier {
public:
    EndpointPool(std::string name, PoolSettings settings, std::vector<std::pair<std::unique_ptr<Tier>, EndpointSettings>> endpoints);
    ~EndpointPool() override;

    const std::string& name() const override { return name_; }
    Task<core::Answer> generate(const core::Query& query, const AskOptions& options) override;
    Task<std::string> embed(const core::Json& request) override;
    int capacity() const override;
    void stop() override;

    std::vector<EndpointStatus> status() const;
    std::size_t size() const { return endpoints_.size(); }

private:
    // The endpoint the balancer picks, with the latency it predicted there (none before its first answer).
    struct Choice {
        Endpoint* endpoint = nullptr;
        std::optional<double> predicted_ms;
    };
    Choice choose(const std::vector<Endpoint*>& tried, const std::string& tag);
    void start_probes();
    Task<void> probe(Endpoint& e);
    void record_success(Endpoint& e, double latency_ms, double predicted_ms);
    void record_failure(Endpoint& e, FailureKind kind, const std::string& what);
    bool admitted(const Endpoint& e, std::chrono::steady_clock::time_point now) const;
    std::string why_out(const Endpoint& e, std::chrono::steady_clock::time_point now) const;  // "" when admitted
    double in_flight(const Endpoint& e) const;
    int slots(const Endpoint& e) const;
    std::string unavailable() const;

    std::string name_;
    PoolSettings settings_;
    const Balancer* balance_;  // from the registry, by settings_.balance (an unknown name throws at construction)
    std::vector<std::unique_ptr<Endpoint>> endpoints_;
    bool tagged_ = false;  // some endpoint has tags: tasks choose among them
    mutable std::mutex mutex_;  // the endpoints' health, ejection and estimates
    std::atomic<std::uint64_t> turn_{0};
    boost::asio::io_context probes_;
    std::thread probe_thread_;
};

}  // namespace hiro::backends
