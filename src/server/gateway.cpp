#include "server/gateway.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>

#include "core/error.h"
#include "core/openai_request.h"
#include "policy/registry.h"
#include "server/completion.h"

namespace hiro::server {
namespace {

using core::Json;

Task<void> respond_error(ClientStream& client, int status, std::string_view message, std::string_view type, std::string_view code,
                         Headers headers = {}) {
    co_await client.respond(status, headers, core::openai_error(message, type, code).dump());
}

Headers retry_soon() { return {{"retry-after", "1"}}; }

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(const std::string& text) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
    return d;
}

std::string next_request_id() {
    static std::atomic<std::uint64_t> counter{0};
    return "hiro-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(counter.fetch_add(1));
}

void declare_metrics(Metrics& m) {
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
}

// Counts a completion request in flight for as long as it lives, however it ends.
struct InflightCount {
    std::atomic<int>& count;
    ~InflightCount() { --count; }
};

}  // namespace

Gateway::Gateway(GatewayConfig config) : config_(std::move(config)), rate_limiter_(config_.rate_limit_per_key, config_.rate_limit_burst) {
    declare_metrics(metrics_);
    for (const auto& t : config_.tiers) {
        tiers_[t.spec.name] = std::make_unique<GuardedTier>(t, backends::make_tier(t.spec), metrics_);
    }
    auto bind = [&](Route& route) {
        for (const auto& name : route.policy->tiers()) {
            GuardedTier* tier = tiers_.at(name).get();
            route.tiers.push_back(tier);
            std::vector<GuardedTier*> fallbacks;
            for (const auto& f : tier->settings().fallback) fallbacks.push_back(tiers_.at(f).get());
            route.fallbacks.push_back(std::move(fallbacks));
        }
    };
    const std::shared_ptr<const policy::ConfidenceEstimator> default_confidence = policy::make_confidence_estimator("mean_logprob");
    for (const auto& t : config_.tiers) {
        Route route{t.spec.name, policy::make_policy({"single", {t.spec.name}, {}, {}}), default_confidence, {}, Json::object(), {}, {}};
        bind(route);
        routes_[t.spec.name] = std::move(route);
    }
    for (const auto& p : config_.policies) {
        Route route{p.name, policy::make_policy(p.spec), policy::make_confidence_estimator(p.confidence), p.spec.thresholds, p.defaults, {}, {}};
        bind(route);
        routes_[p.name] = std::move(route);
    }
}

void Gateway::stop_tiers() {
    for (auto& [_, tier] : tiers_) tier->tier().stop();
}

bool Gateway::authorized(const std::string& authorization, std::string& key_name) const {
    if (config_.api_keys.empty()) return true;
    const std::string prefix = "Bearer ";
    const std::string presented = authorization.rfind(prefix, 0) == 0 ? authorization.substr(prefix.size()) : "";
    // Compare digests in constant time: neither the key's content nor its length leaks through timing.
    const auto presented_digest = digest(presented);
    bool ok = false;
    for (const auto& key : config_.api_keys) {
        const auto d = digest(key.key);
        if (CRYPTO_memcmp(d.data(), presented_digest.data(), d.size()) == 0 && !presented.empty()) {
            ok = true;
            key_name = key.name;
        }
    }
    return ok;
}

std::string Gateway::models_json() const {
    Json data = Json::array();
    for (const auto& [name, route] : routes_) {
        const bool is_tier = tiers_.count(name) > 0;
        data.push_back({{"id", name}, {"object", "model"}, {"owned_by", "hiro"}, {"hiro_kind", is_tier ? "tier" : "policy"},
                        {"hiro_tiers", route.policy->tiers()}});
    }
    return Json{{"object", "list"}, {"data", data}}.dump();
}

Task<void> Gateway::handle(const GatewayRequest& request, ClientStream& client) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    auto count = [&](int status) { metrics_.add("hiro_requests_total", {path, std::to_string(status)}); };
    if (path == "/health") {
        const int status = draining_ ? 503 : 200;
        const std::string body = draining_ ? R"({"status":"draining"})" : R"({"status":"ok"})";
        co_await client.respond(status, {}, body);
        co_return;
    }
    if (path == "/metrics" && request.method == "GET") {
        metrics_.set("hiro_inflight_requests", inflight_.load());
        const Headers headers{{"content-type", "text/plain; version=0.0.4"}};
        co_await client.respond(200, headers, metrics_.render());
        co_return;
    }
    const bool chat = path == "/v1/chat/completions";
    const bool completions = path == "/v1/completions";
    if (path == "/v1/models" || chat || completions) {
        std::string key_name;
        if (!authorized(request.authorization, key_name)) {
            count(401);
            co_await respond_error(client, 401, "invalid or missing API key: send 'Authorization: Bearer KEY'", "authentication_error",
                                   "invalid_api_key");
            co_return;
        }
        if (path == "/v1/models") {
            count(200);
            co_await client.respond(200, {}, models_json());
            co_return;
        }
        if (request.method != "POST") {
            count(405);
            co_await respond_error(client, 405, path + " takes POST", "invalid_request_error", "method_not_allowed");
            co_return;
        }
        double retry_after = 0.0;
        if (!rate_limiter_.admit(key_name, retry_after)) {
            count(429);
            const Headers headers{{"retry-after", std::to_string(static_cast<int>(std::ceil(retry_after)))}};
            co_await respond_error(client, 429, "rate limit exceeded for this API key", "rate_limit_error", "rate_limited", headers);
            co_return;
        }
        co_await handle_completion(request, client, chat);
        co_return;
    }
    count(404);
    co_await respond_error(client, 404,
                           "no such endpoint: " + path + " (hiro serves /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics)",
                           "invalid_request_error", "not_found");
}

Task<void> Gateway::handle_completion(const GatewayRequest& request, ClientStream& client, bool chat) {
    const std::string endpoint = chat ? "/v1/chat/completions" : "/v1/completions";
    auto count = [&](int status) { metrics_.add("hiro_requests_total", {endpoint, std::to_string(status)}); };
    if (draining_) {
        count(503);
        co_await respond_error(client, 503, "hiro is shutting down; retry on another replica", "server_error", "draining", retry_soon());
        co_return;
    }
    core::OpenAIRequest parsed;
    std::string invalid;
    try {
        parsed = core::parse_openai_request(request.body, chat ? core::Endpoint::chat : core::Endpoint::completions);
        if (parsed.model.empty()) invalid = "'model' is required: name a tier or a policy (GET /v1/models lists them)";
    } catch (const core::Error& e) {
        invalid = e.what();
    }
    if (!invalid.empty()) {
        count(400);
        co_await respond_error(client, 400, invalid, "invalid_request_error", "invalid_request");
        co_return;
    }
    auto route = routes_.find(parsed.model);
    if (route == routes_.end()) {
        std::string known;
        for (const auto& [name, r] : routes_) known += (known.empty() ? "" : ", ") + name;
        count(404);
        co_await respond_error(client, 404, "unknown model '" + parsed.model + "'; this gateway serves: " + known, "invalid_request_error",
                               "model_not_found");
        co_return;
    }
    if (inflight_.fetch_add(1) >= config_.max_inflight) {
        inflight_.fetch_sub(1);
        count(503);
        co_await respond_error(client, 503,
                               "hiro is at its limit of " + std::to_string(config_.max_inflight) + " requests in flight; retry shortly",
                               "server_error", "overloaded", retry_soon());
        co_return;
    }
    const InflightCount in_flight{inflight_};
    const auto start = std::chrono::steady_clock::now();
    const std::string id = next_request_id();
    co_await answer_completion(parsed, route->second, client, metrics_, id);
    count(client.status());
    metrics_.observe("hiro_request_duration_seconds", {route->second.name},
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace hiro::server
