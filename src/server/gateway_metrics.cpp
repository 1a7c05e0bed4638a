// The gateway's Prometheus metrics: what it declares at start, and the
// endpoint gauges it copies from its pools at each scrape.
#include "server/gateway.h"

namespace hiro::server {

void declare_gateway_metrics(Metrics& m) {
    m.counter("hiro_requests_total", "HTTP requests by endpoint and status", {"endpoint", "status"});
    m.counter("hiro_answers_total", "answers sent, by the tier that gave them", {"tier"});
    m.counter("hiro_escalations_total", "answers rejected by a cascade, by the tier that gave them", {"tier"});
    m.counter("hiro_upstream_errors_total", "tier failures by kind", {"tier", "kind"});
    m.counter("hiro_retries_total", "tier attempts repeated, immediately or after waiting for the tier", {"tier", "how"});
    m.counter("hiro_failed_requests_total", "requests no tier could answer", {"route"});
    m.counter("hiro_client_disconnects_total", "requests cancelled because the client went away", {});
    m.counter("hiro_tokens_total", "tokens by tier and direction", {"tier", "direction"});
    m.counter("hiro_cost_usd_total", "cost of tier calls in USD", {"tier"});
    m.histogram("hiro_request_duration_seconds", "time to answer a completion request", {"route"},
                {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
    m.histogram("hiro_tier_latency_seconds", "time a tier took to answer", {"tier"},
                {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
    m.gauge("hiro_inflight_requests", "completion requests being answered");
    m.counter("hiro_overflow_total", "requests passed over to the next tier because this one was predicted to miss their latency budget", {"tier"});
    const std::vector<std::string> ep{"tier", "endpoint"};
    m.gauge("hiro_endpoint_up", "1 while the endpoint is admitted (healthy, not ejected)", ep);
    m.gauge("hiro_endpoint_outstanding", "requests sent to the endpoint or waiting in hiro for one of its slots", ep);
    m.gauge("hiro_endpoint_queued", "requests waiting in hiro for one of the endpoint's slots", ep);
    m.gauge("hiro_endpoint_polled_busy", "requests the endpoint says it processes or defers (load polling; -1 unknown)", ep);
    m.gauge("hiro_endpoint_service_seconds", "the endpoint's estimated service time (moving mean of its answers)", ep);
    m.gauge("hiro_endpoint_predicted_seconds", "queue + service predicted for a request arriving now", ep);
    m.gauge("hiro_endpoint_last_latency_seconds", "the last answer's measured latency", ep);
    m.gauge("hiro_endpoint_last_predicted_seconds", "what had been predicted for the last answer", ep);
    m.counter("hiro_endpoint_requests_total", "requests the endpoint was asked", ep);
    m.counter("hiro_endpoint_failures_total", "requests the endpoint failed", ep);
    m.counter("hiro_endpoint_ejections_total", "times the endpoint was taken out (failures in a row, refused connections, health checks)", ep);
}

void Gateway::publish_endpoint_metrics() {
    for (const auto& [name, tier] : tiers_) {
        for (const auto& e : tier->tier().status()) {
            const std::vector<std::string> labels{name, e.name};
            metrics_.set("hiro_endpoint_up", labels, e.admitted ? 1 : 0);
            metrics_.set("hiro_endpoint_outstanding", labels, e.outstanding);
            metrics_.set("hiro_endpoint_queued", labels, static_cast<double>(e.queued));
            metrics_.set("hiro_endpoint_polled_busy", labels, e.polled_busy);
            if (e.service_ms) metrics_.set("hiro_endpoint_service_seconds", labels, *e.service_ms / 1000.0);
            if (e.predicted_ms) metrics_.set("hiro_endpoint_predicted_seconds", labels, *e.predicted_ms / 1000.0);
            metrics_.set("hiro_endpoint_last_latency_seconds", labels, e.last_latency_ms / 1000.0);
            metrics_.set("hiro_endpoint_last_predicted_seconds", labels, e.last_predicted_ms / 1000.0);
            metrics_.set("hiro_endpoint_requests_total", labels, static_cast<double>(e.requests));
            metrics_.set("hiro_endpoint_failures_total", labels, static_cast<double>(e.failures));
            metrics_.set("hiro_endpoint_ejections_total", labels, static_cast<double>(e.ejections));
        }
    }
}

}  // namespace hiro::server
