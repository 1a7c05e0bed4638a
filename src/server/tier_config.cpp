#include <yaml-cpp/yaml.h>

#include <sstream>

#include "backends/endpoint_balancer.h"
#include "core/yaml_json.h"
#include "server/config_section.h"

namespace hiro::server {

core::Json request_defaults(const Section& s) {
    if (!s.has("defaults")) return core::Json::object();
    if (!s["defaults"].IsMap()) s.fail(s.key("defaults") + " must be a map of OpenAI request fields, e.g. {temperature: 0}");
    core::Json defaults = core::yaml_to_json<core::Json>(s["defaults"]);
    for (const char* owned : {"model", "stream", "stream_options", "messages", "prompt"}) {
        if (defaults.contains(owned)) s.fail(s.key("defaults") + "." + owned + " cannot be defaulted: the request or hiro sets it");
    }
    return defaults;
}

namespace {

// What makes one endpoint: a local model or an OpenAI-compatible URL.
void parse_endpoint(const Section& t, backends::TierSpec& spec) {
    if (spec.kind == "local") {
        if (!t.has("model_path")) t.fail(t.key("model_path") + " is missing");
        spec.model_path = t.file("model_path", "the path of a GGUF file", true);
        spec.threads = t.get<int>("threads", "a whole number", 0);
        spec.context = t.get<int>("context", "a whole number", spec.context);
        spec.slots = t.get<int>("slots", "a whole number", 0);
        t.not_negative("threads", spec.threads, " (0: all cores)");
        t.not_negative("context", spec.context, "");
        t.not_negative("slots", spec.slots, " (0: the engine's default of 4 sequences)");
    } else if (spec.kind == "openai") {
        spec.base_url = t.require<std::string>("base_url", "an http:// or https:// URL");
        if (spec.base_url.rfind("http://", 0) != 0 && spec.base_url.rfind("https://", 0) != 0) {
            t.fail(t.key("base_url") + " must be an http:// or https:// URL (got '" + spec.base_url + "')");
        }
        spec.ca_file = t.file("ca_file", "the path of a PEM file", true);
        spec.model = t.get<std::string>("model", "a string", spec.model.empty() ? spec.name : spec.model);
        spec.api_key = t.secret("api_key", "api_key_env");
        const auto max_connections = t.get<long long>("max_connections", "a whole number", static_cast<long long>(spec.pool.max_connections));
        const auto max_idle = t.get<long long>("max_idle_connections", "a whole number", static_cast<long long>(spec.pool.max_idle));
        if (max_connections < 1 || max_idle < 0) t.fail(t.key("max_connections") + " must be at least 1 and max_idle_connections at least 0");
        spec.pool = {static_cast<std::size_t>(max_connections), static_cast<std::size_t>(max_idle)};
    } else {
        t.fail(t.key("kind") + " must be local or openai (got '" + spec.kind + "')");
    }
}

// A pool's endpoints: each takes the tier's shared settings (timeouts,
// prices, defaults) and adds its own address, weight, tags and bound.
void parse_endpoints(const Section& t, backends::TierSpec& spec) {
    const YAML::Node list = t["endpoints"];
    if (!list.IsSequence() || list.size() == 0) t.fail(t.key("endpoints") + " must list at least one endpoint");
    for (std::size_t i = 0; i < list.size(); ++i) {
        Section e(list[i], t.key("endpoints") + "[" + std::to_string(i) + "]", t.source(), t.base_dir());
        e.allow_only({"name", "kind", "model", "model_path", "threads", "context", "slots", "base_url", "api_key", "api_key_env", "ca_file",
                      "weight", "tags", "max_concurrent"});
        backends::TierSpec endpoint = spec;
        endpoint.endpoints.clear();
        endpoint.kind = e.get<std::string>("kind", "local or openai", e.has("model_path") ? "local" : "openai");
        if (!e.has("model") && !spec.model.empty()) endpoint.model = spec.model;
        parse_endpoint(e, endpoint);
        endpoint.endpoint.name = e.get<std::string>("name", "a string", "");
        endpoint.endpoint.weight = e.get<double>("weight", "a positive number", 1.0);
        endpoint.endpoint.tags = e.get<std::vector<std::string>>("tags", "a list of strings", {});
        endpoint.endpoint.max_concurrent = e.get<int>("max_concurrent", "a whole number", 0);
        if (endpoint.endpoint.weight <= 0) e.fail(e.key("weight") + " is " + Section::number(endpoint.endpoint.weight) + ", but weight must be above 0");
        e.not_negative("max_concurrent", endpoint.endpoint.max_concurrent, " (0: no limit)");
        spec.endpoints.push_back(std::move(endpoint));
    }
}

// How the pool balances and watches its endpoints.
void parse_balancing(const Section& t, backends::PoolSettings& b) {
    b.balance = t.get<std::string>("balance", "a balancer name", b.balance);
    try {
        backends::balancer(b.balance);
    } catch (const core::Error& e) {
        t.fail(t.key("balance") + ": " + e.what());
    }
    if (t.has("health")) {
        Section h = t.child("health");
        h.allow_only({"path", "interval_ms", "timeout_ms"});
        b.health_path = h.get<std::string>("path", "a path such as /health", b.health_path);
        b.health_interval = ms(h.get<double>("interval_ms", "a number of milliseconds", 1000.0));
        b.health_timeout = ms(h.get<double>("timeout_ms", "a number of milliseconds", static_cast<double>(b.health_timeout.count())));
        if (b.health_path.empty() || b.health_path[0] != '/') h.fail(h.key("path") + " must start with /");
        if (b.health_interval.count() <= 0 || b.health_timeout.count() <= 0) h.fail(h.path() + ": interval_ms and timeout_ms must be above 0");
    }
    if (t.has("load")) {
        Section l = t.child("load");
        l.allow_only({"source", "interval_ms"});
        b.load_source = l.get<std::string>("source", "metrics, slots or none", "metrics");
        if (b.load_source != "metrics" && b.load_source != "slots" && b.load_source != "none") {
            l.fail(l.key("source") + " must be metrics (llama-server --metrics), slots (llama-server /slots) or none");
        }
        b.load_interval = ms(l.get<double>("interval_ms", "a number of milliseconds", static_cast<double>(b.load_interval.count())));
        if (b.load_interval.count() <= 0) l.fail(l.key("interval_ms") + " must be above 0");
    }
    if (t.has("ejection")) {
        Section x = t.child("ejection");
        x.allow_only({"after_failures", "base_ms"});
        b.eject_after = x.get<int>("after_failures", "a whole number (0: never)", b.eject_after);
        b.ejection = ms(x.get<double>("base_ms", "a number of milliseconds", static_cast<double>(b.ejection.count())));
        x.not_negative("after_failures", b.eject_after, " (0: never)");
        x.not_negative("base_ms", static_cast<double>(b.ejection.count()), "");
    }
    b.slow_start = ms(t.get<double>("slow_start_ms", "a number of milliseconds", 0.0));
}

}  // namespace

TierSettings parse_tier(const Section& t) {
    t.allow_only({"name", "kind", "model", "model_path", "threads", "context", "slots", "base_url", "api_key", "api_key_env", "ca_file",
                  "timeout", "max_connections", "max_idle_connections", "max_concurrent", "queue_timeout_ms", "retries", "retry_budget_ms",
                  "failover_on", "fallback", "circuit_breaker", "prices", "energy_j_per_token", "defaults", "endpoints", "balance", "health",
                  "load", "ejection", "slow_start_ms"});
    TierSettings s;
    auto& spec = s.spec;
    spec.name = t.require<std::string>("name", "a string");
    if (!t.has("endpoints")) {
        spec.kind = t.require<std::string>("kind", "a string (local or openai)");
        parse_endpoint(t, spec);
    } else {
        for (const char* own : {"kind", "model_path", "base_url", "api_key", "api_key_env", "threads", "context", "slots"}) {
            if (t.has(own)) t.fail(t.key(own) + " belongs to each of " + t.key("endpoints") + ", not to the tier");
        }
        spec.model = t.get<std::string>("model", "a string", "");
    }
    if (t.has("timeout")) {
        Section to = t.child("timeout");
        to.allow_only({"connect_ms", "first_byte_ms", "idle_ms"});
        spec.timeouts.connect = ms(to.get<double>("connect_ms", "a number of milliseconds", static_cast<double>(spec.timeouts.connect.count())));
        spec.timeouts.first_byte = ms(to.get<double>("first_byte_ms", "a number of milliseconds", static_cast<double>(spec.timeouts.first_byte.count())));
        spec.timeouts.idle = ms(to.get<double>("idle_ms", "a number of milliseconds", static_cast<double>(spec.timeouts.idle.count())));
    }
    if (t.has("prices")) {
        Section p = t.child("prices");
        p.allow_only({"input", "output"});
        spec.price = {p.get<double>("input", "USD per 1M input tokens", 0.0), p.get<double>("output", "USD per 1M output tokens", 0.0)};
    }
    spec.energy_j_per_token = t.get<double>("energy_j_per_token", "a number of joules", 0.0);
    spec.defaults = request_defaults(t);
    s.max_concurrent = t.get<int>("max_concurrent", "a whole number", 0);
    s.queue_timeout = ms(t.get<double>("queue_timeout_ms", "a number of milliseconds", static_cast<double>(s.queue_timeout.count())));
    s.retries = t.get<int>("retries", "a whole number", 0);
    s.retry_budget = ms(t.get<double>("retry_budget_ms", "a number of milliseconds", 0.0));
    s.failover_on = t.get<std::vector<int>>("failover_on", "a list of HTTP statuses", {});
    t.not_negative("max_concurrent", s.max_concurrent, " (0: no limit)");
    t.not_negative("retries", s.retries, "");
    t.not_negative("retry_budget_ms", static_cast<double>(s.retry_budget.count()), "");
    t.not_negative("queue_timeout_ms", static_cast<double>(s.queue_timeout.count()), "");
    s.fallback = t.get<std::vector<std::string>>("fallback", "a list of tier names", {});
    if (t.has("circuit_breaker")) {
        Section b = t.child("circuit_breaker");
        b.allow_only({"failures", "cooldown_ms"});
        s.breaker_failures = b.get<int>("failures", "a whole number", s.breaker_failures);
        s.breaker_cooldown = ms(b.get<double>("cooldown_ms", "a number of milliseconds", static_cast<double>(s.breaker_cooldown.count())));
    }
    parse_balancing(t, spec.balancing);
    spec.balancing.queue_timeout = s.queue_timeout;
    if (t.has("endpoints")) parse_endpoints(t, spec);
    return s;
}


}  // namespace hiro::server
