#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "backends/tier_factory.h"
#include "core/openai_response.h"
#include "server/access_log.h"
#include "server/limit_store.h"
#include "policy/policy_spec.h"
#include "policy/task_router.h"

namespace hiro::server {

struct TierSettings {
    backends::TierSpec spec;
    int max_concurrent = 0;                          // 0 = no limit (local tiers: their compute slots)
    std::chrono::milliseconds queue_timeout{10000};  // how long a request waits for a free slot
    int retries = 0;                                 // extra attempts on the same tier after a failure
    std::chrono::milliseconds retry_budget{0};       // how long to keep retrying while the tier is briefly gone
    std::vector<int> failover_on;                    // upstream client-error statuses treated as the tier's fault
    std::vector<std::string> fallback;               // tiers that take over when this one fails
    int breaker_failures = 5;                        // failures in a row that open the circuit (0 = never)
    std::chrono::milliseconds breaker_cooldown{30000};
};

// How an adaptive_cascade route learns while it serves (policies[].online).
struct TuningSettings {
    std::string state_file;      // the learner's state persists here ("" = not in a file)
    bool state_in_redis = false; // ... or in state.redis, under hiro:learner:ROUTE
    std::string match = "normalized";  // when two answers agree: exact | normalized | choice | embedding
    std::string embedding_tier;        // match: embedding: the tier that embeds both answers
    double min_cosine = 0.9;           // match: embedding: agreement is a cosine at least this
    std::chrono::seconds feedback_window{300};  // how long an answer waits for POST /v1/feedback before it is learned without
    std::chrono::seconds save_every{5};         // how often a changed state is persisted
};

struct PolicySettings {
    std::string name;  // what clients put in "model"
    policy::PolicySpec spec;
    std::string confidence = "mean_logprob";  // the ConfidenceEstimator that scores live answers
    core::Json defaults = core::Json::object();  // request fields set where the client did not (e.g. temperature: 0)
    std::optional<double> deadline_ms;  // latency budget: a tier predicted to miss it is passed over for the next
    std::shared_ptr<const policy::TaskRouter> task_router;  // capability routing: endpoints tagged with the predicted task
    TuningSettings online;  // adaptive_cascade only
};

struct ApiKey {
    std::string name;  // for logs, metrics and usage; the key itself is never logged
    std::string key;
    bool admin = false;  // may read every key's usage (GET /v1/usage)
    KeyLimits limits;    // limits.per_key, overridden by the key's own limits
};

struct GatewayConfig {
    std::string default_route;  // what answers requests without "model"; empty: they are refused
    std::vector<std::string> cors_origins;  // browser origins allowed to call hiro ("*": any); empty: no CORS
    AccessLogSettings access_log;
    std::string host = "127.0.0.1";
    unsigned short port = 8000;
    int io_threads = 0;  // threads that run every connection and upstream request; 0 = one per core
    std::vector<ApiKey> api_keys;  // empty: no authentication
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 << 10;
    int max_inflight = 8192;  // requests being answered at once; more get 503 (each holds ~2 file descriptors)
    KeyLimits key_limits;  // limits.per_key: every key's limits unless it sets its own (and the clients' without API keys)
    SharedState state;     // where the limits live: this process, or Redis shared by all replicas
    std::chrono::milliseconds drain_timeout{30000};
    std::vector<TierSettings> tiers;
    std::vector<PolicySettings> policies;
};

// Reads and validates a YAML config; errors name the file and the key
// ("gateway.yaml: tiers[1].base_url must be an http:// URL").
GatewayConfig load_gateway_config(const std::string& path);

// "HOST:PORT" into its parts; throws an invalid_input core::Error saying what is wrong.
void parse_listen_address(const std::string& text, std::string& host, unsigned short& port);
GatewayConfig parse_gateway_config(const std::string& yaml_text, const std::string& source);

}  // namespace hiro::server
