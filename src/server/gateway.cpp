#include "server/gateway.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/chrono.h>
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
#include "server/cors_stream.h"

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

double ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

std::string next_request_id() {
    static std::atomic<std::uint64_t> counter{0};
    return "hiro-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(counter.fetch_add(1));
}


// Counts a completion request in flight for as long as it lives, however it ends.
struct InflightCount {
    std::atomic<int>& count;
    ~InflightCount() { --count; }
};

}  // namespace

Gateway::Gateway(GatewayConfig config)
    : config_(std::move(config)), access_log_(config_.access_log), limiter_(limits_by_key(config_), config_.state, metrics_) {
    declare_gateway_metrics(metrics_);
    declare_tuning_metrics(metrics_);
    for (const auto& t : config_.tiers) {
        tiers_[t.spec.name] = std::make_unique<GuardedTier>(t, backends::make_tier(t.spec), metrics_);
    }
    if (config_.state.share_breakers) {
        std::map<std::string, GuardedTier*> tiers;
        for (auto& [name, tier] : tiers_) tiers[name] = tier.get();
        shared_breakers_ = std::make_unique<SharedBreakers>(limiter_.redis(), tiers);
        for (auto& [_, tier] : tiers_) {
            tier->on_circuit_open([this](const boost::asio::any_io_executor& executor, const std::string& name, std::chrono::milliseconds cooldown) {
                shared_breakers_->publish(executor, name, cooldown);
            });
        }
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
        Route route{t.spec.name, policy::make_policy({"single", {t.spec.name}, {}, {}}), default_confidence, {}, Json::object(), {}, {}, {}, nullptr, nullptr};
        bind(route);
        routes_[t.spec.name] = std::move(route);
    }
    for (const auto& p : config_.policies) {
        Route route{p.name, nullptr, policy::make_confidence_estimator(p.confidence), p.spec.thresholds, p.defaults, {}, {},
                    p.deadline_ms, p.task_router, nullptr};
        std::shared_ptr<policy::Policy> built = policy::make_policy(p.spec);
        if (auto cascade = std::dynamic_pointer_cast<policy::AdaptiveCascade>(built)) route.tuning = start_tuning(p, cascade);
        route.policy = std::move(built);
        bind(route);
        routes_[p.name] = std::move(route);
    }
}


void Gateway::start(const boost::asio::any_io_executor& executor) {
    if (shared_breakers_) shared_breakers_->start(executor);
    for (auto& learner : learners_) boost::asio::co_spawn(executor, tend(learner), boost::asio::detached);
}

void Gateway::stop() {
    for (auto& [_, tier] : tiers_) tier->tier().stop();
    limiter_.close();
}

bool Gateway::authorized(const std::string& authorization, Outcome& outcome) const {
    if (config_.api_keys.empty()) {
        outcome.admin = true;  // an open gateway has no secrets to keep between its clients
        return true;
    }
    const std::string prefix = "Bearer ";
    const std::string presented = authorization.rfind(prefix, 0) == 0 ? authorization.substr(prefix.size()) : "";
    // Compare digests in constant time: neither the key's content nor its length leaks through timing.
    const auto presented_digest = digest(presented);
    bool ok = false;
    for (const auto& key : config_.api_keys) {
        const auto d = digest(key.key);
        if (CRYPTO_memcmp(d.data(), presented_digest.data(), d.size()) == 0 && !presented.empty()) {
            ok = true;
            outcome.key = key.name;
            outcome.admin = key.admin;
        }
    }
    return ok;
}

bool Gateway::cors_allowed(const std::string& origin) const {
    if (origin.empty()) return false;
    for (const auto& allowed : config_.cors_origins) {
        if (allowed == "*" || allowed == origin) return true;
    }
    return false;
}

std::string Gateway::models_json() const {
    Json data = Json::array();
    for (const auto& [name, route] : routes_) {
        auto tier = tiers_.find(name);
        Json m = {{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "hiro"}};
        if (tier != tiers_.end()) {
            m["hiro"] = {{"kind", "tier"}, {"tier_kind", tier->second->settings().spec.kind}};
        } else {
            m["hiro"] = {{"kind", "policy"}, {"tiers", route.policy->tiers()}, {"policy", route.policy->describe()},
                         {"confidence", std::string(route.confidence->name())}};
        }
        data.push_back(std::move(m));
    }
    return Json{{"object", "list"}, {"data", data}}.dump();
}

std::string Gateway::readiness_json(bool& ready) const {
    Json tiers = Json::object();
    ready = false;
    for (const auto& [name, tier] : tiers_) {
        Json r = tier->readiness();
        ready = ready || r["ready"].get<bool>();
        tiers[name] = std::move(r);
    }
    ready = ready && !draining_;
    return Json{{"status", draining_ ? "draining" : ready ? "ready" : "no tier is ready"}, {"tiers", std::move(tiers)}}.dump();
}

Task<void> Gateway::handle(const GatewayRequest& request, ClientStream& client) {
    const auto start = std::chrono::steady_clock::now();
    const std::string path = request.target.substr(0, request.target.find('?'));
    std::optional<CorsStream> cors;
    if (cors_allowed(request.origin)) cors.emplace(client, request.origin);
    ClientStream& out = cors ? static_cast<ClientStream&>(*cors) : client;
    Outcome outcome;
    if (request.method == "OPTIONS" && cors) {  // a browser's preflight
        const Headers headers{{"access-control-allow-methods", "GET, POST, OPTIONS"},
                              {"access-control-allow-headers", request.cors_headers.empty() ? "Authorization, Content-Type" : request.cors_headers},
                              {"access-control-max-age", "600"}};
        co_await out.respond(204, headers, "");
    } else {
        co_await dispatch(request, path, out, outcome);
    }
    if (path != "/health" && path != "/metrics") {
        // Paths hiro does not serve are one series, not one per path a scanner tries.
        const bool known = path == "/ready" || path == "/v1/models" || path == "/v1/chat/completions" || path == "/v1/completions" ||
                           path == "/v1/embeddings" || path == "/v1/usage" || path == "/v1/feedback";
        metrics_.add("hiro_requests_total", {known ? path : "other", std::to_string(client.status())});
        log_access(request, path, client.status(), ms_since(start), outcome);
    }
}

Task<void> Gateway::dispatch(const GatewayRequest& request, const std::string& path, ClientStream& client, Outcome& outcome) {
    if (path == "/health") {  // liveness: the process answers
        const std::string body = draining_ ? R"({"status":"draining"})" : R"({"status":"ok"})";
        co_await client.respond(draining_ ? 503 : 200, {}, body);
        co_return;
    }
    if (path == "/ready") {  // readiness: some tier can answer
        bool ready = false;
        std::string body = readiness_json(ready);
        co_await client.respond(ready ? 200 : 503, {}, std::move(body));
        co_return;
    }
    if (path == "/metrics" && request.method == "GET") {
        metrics_.set("hiro_inflight_requests", inflight_.load());
        publish_endpoint_metrics();
        for (auto& learner : learners_) learner.tuning->publish_metrics();
        const Headers headers{{"content-type", "text/plain; version=0.0.4"}};
        co_await client.respond(200, headers, metrics_.render());
        co_return;
    }
    const bool chat = path == "/v1/chat/completions";
    const bool completions = path == "/v1/completions";
    const bool embeddings = path == "/v1/embeddings";
    const bool usage = path == "/v1/usage";
    const bool feedback = path == "/v1/feedback";
    if (path != "/v1/models" && !chat && !completions && !embeddings && !usage && !feedback) {
        co_await respond_error(client, 404,
                               "no such endpoint: " + path +
                                   " (hiro serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/feedback, /v1/models, /v1/usage, /health,"
                                   " /ready, /metrics)",
                               "invalid_request_error", "not_found");
        co_return;
    }
    if (!authorized(request.authorization, outcome)) {
        co_await respond_error(client, 401, "invalid or missing API key: send 'Authorization: Bearer KEY'", "authentication_error",
                               "invalid_api_key");
        co_return;
    }
    if (path == "/v1/models") {
        co_await client.respond(200, {}, models_json());
        co_return;
    }
    if (usage) {
        co_await handle_usage(client, outcome);
        co_return;
    }
    if (request.method != "POST") {
        co_await respond_error(client, 405, path + " takes POST", "invalid_request_error", "method_not_allowed");
        co_return;
    }
    if (feedback) {
        co_await handle_feedback(request, client, outcome);
        co_return;
    }
    if (draining_) {
        co_await respond_error(client, 503, "hiro is shutting down; retry on another replica", "server_error", "draining", retry_soon());
        co_return;
    }
    if (embeddings) {
        co_await handle_embeddings(request, client, outcome);
    } else {
        co_await handle_completion(request, client, chat, outcome);
    }
}

Task<void> Gateway::handle_completion(const GatewayRequest& request, ClientStream& client, bool chat, Outcome& outcome) {
    core::OpenAIRequest parsed;
    std::string invalid;
    try {
        parsed = core::parse_openai_request(request.body, chat ? core::Endpoint::chat : core::Endpoint::completions);
        if (parsed.model.empty()) parsed.model = config_.default_route;
        if (parsed.model.empty()) invalid = "'model' is required: name a tier or a policy (GET /v1/models lists them)";
    } catch (const core::Error& e) {
        invalid = e.what();
    }
    std::optional<double> deadline_ms;
    if (!request.deadline_ms.empty()) {
        char* end = nullptr;
        const double v = std::strtod(request.deadline_ms.c_str(), &end);
        if (end == request.deadline_ms.c_str() || *end != '\0' || !(v > 0)) {
            invalid = "the x-hiro-deadline-ms header must be a positive number of milliseconds (got '" + request.deadline_ms + "')";
        }
        deadline_ms = v;
    }
    if (!invalid.empty()) {
        co_await respond_error(client, 400, invalid, "invalid_request_error", "invalid_request");
        co_return;
    }
    auto route = routes_.find(parsed.model);
    if (route == routes_.end()) {
        std::string known;
        for (const auto& [name, r] : routes_) known += (known.empty() ? "" : ", ") + name;
        co_await respond_error(client, 404, "unknown model '" + parsed.model + "'; this gateway serves: " + known, "invalid_request_error",
                               "model_not_found");
        co_return;
    }
    if (inflight_.fetch_add(1) >= config_.max_inflight) {
        inflight_.fetch_sub(1);
        co_await respond_error(client, 503,
                               "hiro is at its limit of " + std::to_string(config_.max_inflight) + " requests in flight; retry shortly",
                               "server_error", "overloaded", retry_soon());
        co_return;
    }
    const InflightCount in_flight{inflight_};
    std::optional<Reservation> held;
    const Demand worst = worst_case(parsed.query, route->second, limiter_.limits_of(outcome.key).reserve_completion_tokens);
    if (!co_await admit(client, outcome.key, worst, held)) co_return;
    const auto executor = co_await boost::asio::this_coro::executor;
    const auto start = std::chrono::steady_clock::now();
    std::exception_ptr cut_off;
    try {
        outcome.trace = co_await answer_completion(parsed, route->second, client, metrics_, next_request_id(), deadline_ms, outcome.key);
    } catch (const boost::system::system_error&) {
        cut_off = std::current_exception();
    }
    if (cut_off) charge_worst_case(executor, *held, cut_off);
    metrics_.observe("hiro_request_duration_seconds", {route->second.name}, ms_since(start) / 1000.0);
    limiter_.settle(executor, *held, used_by(*outcome.trace));
}

void Gateway::charge_worst_case(const boost::asio::any_io_executor& executor, const Reservation& held, std::exception_ptr cut_off) {
    // The client went away: what the tier billed is unknown, so the worst case stays charged.
    limiter_.settle(executor, held, held.reserved);
    std::rethrow_exception(cut_off);
}

Task<bool> Gateway::admit(ClientStream& client, const std::string& key, const Demand& worst, std::optional<Reservation>& held) {
    KeyLimiter::Verdict verdict = co_await limiter_.admit(key, worst);
    if (verdict.held) {
        held = std::move(verdict.held);
        co_return true;
    }
    const Headers headers{{"retry-after", std::to_string(verdict.retry_after_s)}};
    co_await respond_error(client, verdict.status, verdict.message, verdict.type, verdict.code, headers);
    co_return false;
}

Task<void> Gateway::handle_usage(ClientStream& client, const Outcome& outcome) {
    if (!outcome.admin) {
        co_await respond_error(client, 403, "reading usage takes an admin key: set admin: true on it under api_keys", "permission_error",
                               "admin_key_required");
        co_return;
    }
    const Json usage = co_await limiter_.usage();
    co_await client.respond(200, {}, usage.dump());
}

Task<void> Gateway::handle_embeddings(const GatewayRequest& request, ClientStream& client, Outcome& outcome) {
    Json body = Json::parse(request.body, nullptr, false);
    std::string invalid;
    if (!body.is_object()) invalid = "the request body must be a JSON object";
    std::string model = body.is_object() ? body.value("model", config_.default_route) : "";
    if (invalid.empty() && model.empty()) invalid = "'model' is required: name a tier (GET /v1/models lists them)";
    auto tier = tiers_.find(model);
    if (invalid.empty() && tier == tiers_.end()) {
        invalid = routes_.count(model) ? "'" + model + "' is a policy; embeddings come from a tier" : "unknown model '" + model + "'";
    }
    if (!invalid.empty()) {
        co_await respond_error(client, tier == tiers_.end() && !model.empty() && !routes_.count(model) ? 404 : 400, invalid,
                               "invalid_request_error", "invalid_request");
        co_return;
    }
    body.erase("model");
    std::optional<Reservation> held;
    const auto input_bound = static_cast<std::int64_t>(request.body.size());  // bytes bound a byte-level vocabulary's tokens
    const Demand worst{input_bound, tier->second->settings().spec.price.cost(input_bound, 0)};
    if (!co_await admit(client, outcome.key, worst, held)) co_return;
    const auto executor = co_await boost::asio::this_coro::executor;
    std::optional<backends::TierFailure> failure;
    std::exception_ptr cut_off;
    std::string answer;
    try {
        answer = co_await tier->second->tier().embed(body);
    } catch (const backends::TierFailure& f) {
        failure.emplace(f);
    } catch (const boost::system::system_error&) {
        cut_off = std::current_exception();
    }
    if (cut_off) charge_worst_case(executor, *held, cut_off);
    Demand used;
    if (!failure) {
        const Json parsed = Json::parse(answer, nullptr, false);
        const Json::json_pointer prompt_tokens("/usage/prompt_tokens");
        if (parsed.is_object() && parsed.contains(prompt_tokens) && parsed[prompt_tokens].is_number_integer()) {
            used.tokens = parsed[prompt_tokens].get<std::int64_t>();
        }
        used.usd = tier->second->settings().spec.price.cost(used.tokens, 0);
    }
    limiter_.settle(executor, *held, used);
    if (failure) {
        const bool client_error = failure->kind() == backends::FailureKind::client_error;
        std::string error = client_error && Json::accept(failure->body()) ? failure->body() : core::openai_error(failure->what(), "upstream_error").dump();
        co_await client.respond(client_error ? failure->status() : 502, {}, std::move(error));
        co_return;
    }
    const Headers headers{{"x-hiro-tier", model}};
    co_await client.respond(200, headers, std::move(answer));
}

void Gateway::log_access(const GatewayRequest& request, const std::string& path, int status, double latency_ms, const Outcome& outcome) {
    if (!access_log_.enabled()) return;
    const auto now = std::chrono::system_clock::now();
    Json entry = {{"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(now))},
                  {"method", request.method}, {"path", path}, {"status", status}, {"latency_ms", latency_ms}};
    if (!outcome.key.empty()) entry["key"] = outcome.key;
    if (const auto& t = outcome.trace) {
        entry["id"] = t->id;
        entry["route"] = t->route;
        Json tried = Json::array(), attempts = Json::array();
        std::int64_t prompt = 0, completion = 0;
        for (const auto& a : t->attempts) {
            tried.push_back(a.tier + ":" + a.outcome);
            Json attempt = {{"tier", a.tier}, {"outcome", a.outcome}, {"latency_ms", a.latency_ms}};
            if (!a.endpoint.empty()) attempt["endpoint"] = a.endpoint;
            attempts.push_back(std::move(attempt));
            prompt += a.prompt_tokens;
            completion += a.tokens;
        }
        entry["tiers"] = std::move(tried);
        entry["attempts"] = std::move(attempts);  // each tier's own latency: service times for `hiro simulate cluster`
        entry["answered_by"] = t->answered_by.empty() ? Json(nullptr) : Json(t->answered_by);
        entry["stopped"] = t->stopped;
        entry["prompt_tokens"] = prompt;
        entry["completion_tokens"] = completion;
        entry["cost_usd"] = t->cost_usd();
    }
    if (access_log_.include_prompts()) entry["request"] = request.body;
    access_log_.write(entry);
}

}  // namespace hiro::server
