#include "server/gateway.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/openai_protocol.h"
#include "policy/registry.h"
#include "server/completion.h"

namespace hiro::server {
namespace {

using nlohmann::json;

void respond_error(ResponseChannel& channel, int status, std::string_view message, std::string_view type, std::string_view code,
                   Headers headers = {}) {
    channel.respond(status, std::move(headers), core::openai_error(message, type, code).dump());
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(const std::string& text) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
    return d;
}

void declare_metrics(Metrics& m) {
    m.counter("hiro_requests_total", "HTTP requests by endpoint and status", {"endpoint", "status"});
    m.counter("hiro_answers_total", "answers sent, by the tier that gave them", {"tier"});
    m.counter("hiro_escalations_total", "answers rejected by a cascade, by the tier that gave them", {"tier"});
    m.counter("hiro_upstream_errors_total", "tier failures by kind", {"tier", "kind"});
    m.counter("hiro_failed_requests_total", "requests no tier could answer", {"route"});
    m.counter("hiro_client_disconnects_total", "requests cancelled because the client went away", {});
    m.counter("hiro_tokens_total", "tokens by tier and direction", {"tier", "direction"});
    m.counter("hiro_cost_usd_total", "cost of tier calls in USD", {"tier"});
    m.histogram("hiro_request_duration_seconds", "time to answer a completion request", {"route"},
                {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
    m.histogram("hiro_tier_latency_seconds", "time a tier took to answer", {"tier"},
                {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
    m.gauge("hiro_inflight_requests", "completion requests being answered");
    m.gauge("hiro_queue_depth", "completion requests waiting for a worker thread");
}

}  // namespace

Gateway::Gateway(GatewayConfig config)
    : config_(std::move(config)),
      rate_limiter_(config_.rate_limit_per_key, config_.rate_limit_burst),
      workers_(static_cast<std::size_t>(config_.workers)) {
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
        Route route{t.spec.name, policy::make_policy({"single", {t.spec.name}, {}, {}}), default_confidence, {}, {}, {}};
        bind(route);
        routes_[t.spec.name] = std::move(route);
    }
    for (const auto& p : config_.policies) {
        Route route{p.name, policy::make_policy(p.spec), policy::make_confidence_estimator(p.confidence), p.spec.thresholds, {}, {}};
        bind(route);
        routes_[p.name] = std::move(route);
    }
}

Gateway::~Gateway() { workers_.join(); }

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
    json data = json::array();
    for (const auto& [name, route] : routes_) {
        const bool is_tier = tiers_.count(name) > 0;
        data.push_back({{"id", name}, {"object", "model"}, {"owned_by", "hiro"}, {"hiro_kind", is_tier ? "tier" : "policy"},
                        {"hiro_tiers", route.policy->tiers()}});
    }
    return json{{"object", "list"}, {"data", data}}.dump();
}

void Gateway::handle(const GatewayRequest& request, const std::shared_ptr<ResponseChannel>& channel) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    auto count = [&](int status) { metrics_.add("hiro_requests_total", {path, std::to_string(status)}); };
    if (path == "/health") {
        const int status = draining_ ? 503 : 200;
        channel->respond(status, {}, json{{"status", draining_ ? "draining" : "ok"}}.dump());
        return;
    }
    if (path == "/metrics" && request.method == "GET") {
        metrics_.set("hiro_inflight_requests", inflight_.load());
        metrics_.set("hiro_queue_depth", queued_.load());
        channel->respond(200, {{"content-type", "text/plain; version=0.0.4"}}, metrics_.render());
        return;
    }
    const bool chat = path == "/v1/chat/completions";
    const bool completions = path == "/v1/completions";
    if (path == "/v1/models" || chat || completions) {
        std::string key_name;
        if (!authorized(request.authorization, key_name)) {
            count(401);
            respond_error(*channel, 401, "invalid or missing API key: send 'Authorization: Bearer KEY'", "authentication_error",
                          "invalid_api_key");
            return;
        }
        if (path == "/v1/models") {
            count(200);
            channel->respond(200, {}, models_json());
            return;
        }
        if (request.method != "POST") {
            count(405);
            respond_error(*channel, 405, path + " takes POST", "invalid_request_error", "method_not_allowed");
            return;
        }
        double retry_after = 0.0;
        if (!rate_limiter_.admit(key_name, retry_after)) {
            count(429);
            respond_error(*channel, 429, "rate limit exceeded for this API key", "rate_limit_error", "rate_limited",
                          {{"retry-after", std::to_string(static_cast<int>(std::ceil(retry_after)))}});
            return;
        }
        handle_completion(request, channel, chat);
        return;
    }
    count(404);
    respond_error(*channel, 404, "no such endpoint: " + path + " (hiro serves /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics)",
                  "invalid_request_error", "not_found");
}

void Gateway::handle_completion(const GatewayRequest& request, const std::shared_ptr<ResponseChannel>& channel, bool chat) {
    const std::string endpoint = chat ? "/v1/chat/completions" : "/v1/completions";
    auto count = [&](int status) { metrics_.add("hiro_requests_total", {endpoint, std::to_string(status)}); };
    if (draining_) {
        count(503);
        respond_error(*channel, 503, "hiro is shutting down; retry on another replica", "server_error", "draining", {{"retry-after", "1"}});
        return;
    }
    core::OpenAIRequest parsed;
    try {
        parsed = core::parse_openai_request(request.body, chat ? core::Endpoint::chat : core::Endpoint::completions);
    } catch (const core::Error& e) {
        count(400);
        respond_error(*channel, 400, e.what(), "invalid_request_error", "invalid_request");
        return;
    }
    auto route = routes_.find(parsed.model);
    if (route == routes_.end()) {
        std::string known;
        for (const auto& [name, r] : routes_) known += (known.empty() ? "" : ", ") + name;
        count(404);
        respond_error(*channel, 404, "unknown model '" + parsed.model + "'; this gateway serves: " + known, "invalid_request_error",
                      "model_not_found");
        return;
    }
    if (inflight_.fetch_add(1) >= config_.max_inflight) {
        inflight_.fetch_sub(1);
        count(503);
        respond_error(*channel, 503, "hiro is at its limit of " + std::to_string(config_.max_inflight) + " requests in flight; retry shortly",
                      "server_error", "overloaded", {{"retry-after", "1"}});
        return;
    }
    channel->when_delivered([this] { inflight_.fetch_sub(1); });
    ++queued_;
    boost::asio::post(workers_, [this, channel, endpoint, parsed = std::move(parsed), route = &route->second]() {
        --queued_;
        const auto start = std::chrono::steady_clock::now();
        try {
            answer_completion(parsed, *route, *channel, metrics_);
        } catch (const std::exception& e) {
            spdlog::error("request failed inside hiro: {}", e.what());
            respond_error(*channel, 500, std::string("internal error: ") + e.what(), "server_error", "internal_error");
        }
        metrics_.add("hiro_requests_total", {endpoint, std::to_string(channel->status())});
        metrics_.observe("hiro_request_duration_seconds", {route->name},
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    });
}

}  // namespace hiro::server
