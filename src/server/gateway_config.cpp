#include "server/gateway_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/yaml_json.h"
#include "policy/confidence_estimator.h"
#include "policy/registry.h"

namespace hiro::server {
namespace {

using core::Error;
using core::ErrorCode;

// Reads one YAML map, remembering where it is for messages and refusing keys
// it does not know (a typo must not silently fall back to a default).
class Section {
public:
    Section(const YAML::Node& node, std::string path, const std::string& source) : node_(node), path_(std::move(path)), source_(source) {
        if (!node_.IsMap()) fail(path_.empty() ? "the config must be a YAML map" : path_ + " must be a map");
    }

    [[noreturn]] void fail(const std::string& what) const { throw Error(ErrorCode::invalid_input, source_ + ": " + what); }
    std::string key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

    void allow_only(std::initializer_list<std::string> keys) const {
        std::set<std::string> known(keys);
        for (const auto& kv : node_) {
            const auto k = kv.first.as<std::string>();
            if (!known.count(k)) {
                std::string list;
                for (const auto& x : keys) list += (list.empty() ? "" : ", ") + x;
                fail(key(k) + " is not a known key (known: " + list + ")");
            }
        }
    }

    bool has(const std::string& k) const { return static_cast<bool>(node_[k]); }
    YAML::Node operator[](const std::string& k) const { return node_[k]; }

    template <class T>
    T get(const std::string& k, const char* want, T fallback) const {
        const YAML::Node v = node_[k];
        if (!v) return fallback;
        try {
            return v.as<T>();
        } catch (const YAML::Exception&) {
            fail(key(k) + " must be " + want);
        }
    }

    template <class T>
    T require(const std::string& k, const char* want) const {
        if (!has(k)) fail(key(k) + " is missing");
        return get<T>(k, want, T{});
    }

    std::string secret(const std::string& literal_key, const std::string& env_key) const {
        if (has(literal_key)) return get<std::string>(literal_key, "a string", "");
        if (!has(env_key)) return "";
        const auto var = get<std::string>(env_key, "the name of an environment variable", "");
        const char* value = std::getenv(var.c_str());
        if (value == nullptr || *value == '\0') fail(key(env_key) + ": the environment variable " + var + " is not set");
        return value;
    }

    const std::string& path() const { return path_; }
    Section child(const std::string& k) const { return Section(node_[k], key(k), source_); }

private:
    YAML::Node node_;
    std::string path_;
    std::string source_;
};

std::chrono::milliseconds ms(double v) { return std::chrono::milliseconds(static_cast<long long>(v)); }

core::Json request_defaults(const Section& s) {
    if (!s.has("defaults")) return core::Json::object();
    if (!s["defaults"].IsMap()) s.fail(s.key("defaults") + " must be a map of OpenAI request fields, e.g. {temperature: 0}");
    core::Json defaults = core::yaml_to_json<core::Json>(s["defaults"]);
    for (const char* owned : {"model", "stream", "stream_options", "messages", "prompt"}) {
        if (defaults.contains(owned)) s.fail(s.key("defaults") + "." + owned + " cannot be defaulted: the request or hiro sets it");
    }
    return defaults;
}

TierSettings parse_tier(const Section& t) {
    t.allow_only({"name", "kind", "model", "model_path", "threads", "context", "slots", "base_url", "api_key", "api_key_env", "ca_file",
                  "timeout", "max_connections", "max_idle_connections", "max_concurrent", "queue_timeout_ms", "retries", "retry_budget_ms",
                  "failover_on", "fallback", "circuit_breaker", "prices", "energy_j_per_token", "defaults"});
    TierSettings s;
    auto& spec = s.spec;
    spec.name = t.require<std::string>("name", "a string");
    spec.kind = t.require<std::string>("kind", "a string (local or openai)");
    if (spec.kind == "local") {
        spec.model_path = t.require<std::string>("model_path", "the path of a GGUF file");
        spec.threads = t.get<int>("threads", "a whole number", 0);
        spec.context = t.get<int>("context", "a whole number", spec.context);
        spec.slots = t.get<int>("slots", "a whole number", 0);
        if (spec.threads < 0 || spec.context < 0 || spec.slots < 0) t.fail(t.path() + ": threads, context and slots must not be negative");
    } else if (spec.kind == "openai") {
        spec.base_url = t.require<std::string>("base_url", "an http:// or https:// URL");
        if (spec.base_url.rfind("http://", 0) != 0 && spec.base_url.rfind("https://", 0) != 0) {
            t.fail(t.key("base_url") + " must be an http:// or https:// URL (got '" + spec.base_url + "')");
        }
        spec.ca_file = t.get<std::string>("ca_file", "the path of a PEM file", "");
        spec.model = t.get<std::string>("model", "a string", spec.name);
        spec.api_key = t.secret("api_key", "api_key_env");
        const auto max_connections = t.get<long long>("max_connections", "a whole number", static_cast<long long>(spec.pool.max_connections));
        const auto max_idle = t.get<long long>("max_idle_connections", "a whole number", static_cast<long long>(spec.pool.max_idle));
        if (max_connections < 1 || max_idle < 0) t.fail(t.key("max_connections") + " must be at least 1 and max_idle_connections at least 0");
        spec.pool = {static_cast<std::size_t>(max_connections), static_cast<std::size_t>(max_idle)};
    } else {
        t.fail(t.key("kind") + " must be local or openai (got '" + spec.kind + "')");
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
    if (s.max_concurrent < 0 || s.retries < 0 || s.retry_budget.count() < 0 || s.queue_timeout.count() < 0) {
        t.fail(t.path() + ": max_concurrent, retries, retry_budget_ms and queue_timeout_ms must not be negative");
    }
    s.fallback = t.get<std::vector<std::string>>("fallback", "a list of tier names", {});
    if (t.has("circuit_breaker")) {
        Section b = t.child("circuit_breaker");
        b.allow_only({"failures", "cooldown_ms"});
        s.breaker_failures = b.get<int>("failures", "a whole number", s.breaker_failures);
        s.breaker_cooldown = ms(b.get<double>("cooldown_ms", "a number of milliseconds", static_cast<double>(s.breaker_cooldown.count())));
    }
    return s;
}

PolicySettings parse_policy(const Section& p) {
    p.allow_only({"name", "kind", "tiers", "thresholds", "params", "file", "confidence", "defaults", "models"});
    PolicySettings s;
    s.name = p.require<std::string>("name", "a string");
    std::string file;
    if (p.has("file")) {
        file = p.get<std::string>("file", "a path", "");
        s.spec = policy::load_policy_spec(file);
    } else {
        s.spec.kind = p.require<std::string>("kind", "a policy kind");
        s.spec.tiers = p.require<std::vector<std::string>>("tiers", "a list of tier names");
        s.spec.thresholds = p.get<std::vector<double>>("thresholds", "a list of numbers", {});
        s.spec.params = p.get<std::map<std::string, double>>("params", "a map of numbers", {});
    }
    // A policy tuned on one confidence signal means nothing scored with another.
    const std::string tuned_on = s.spec.confidence;
    s.confidence = p.get<std::string>("confidence", "an estimator name", tuned_on.empty() ? s.confidence : tuned_on);
    if (!tuned_on.empty() && s.confidence != tuned_on) {
        p.fail(p.key("confidence") + " is " + s.confidence + ", but " + file + " was tuned on " + tuned_on +
               " confidences: its thresholds mean nothing on another signal (remove confidence, or set it to " + tuned_on + ")");
    }
    // The models a policy file was fitted on, and the tiers that serve them.
    const auto models = p.get<std::map<std::string, std::string>>("models", "a map MODEL: TIER", {});
    for (auto& tier : s.spec.tiers) {
        if (auto it = models.find(tier); it != models.end()) tier = it->second;
    }
    s.defaults = request_defaults(p);
    try {
        policy::make_policy(s.spec);
        policy::make_confidence_estimator(s.confidence);
    } catch (const Error& e) {
        p.fail(p.path() + ": " + e.what());
    }
    return s;
}

}  // namespace

GatewayConfig parse_gateway_config(const std::string& yaml_text, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw Error(ErrorCode::invalid_input, source + ": not valid YAML: " + e.what());
    }
    Section top(root, "", source);
    top.allow_only({"listen", "io_threads", "api_keys", "limits", "tiers", "policies", "default_route", "cors", "access_log"});
    GatewayConfig c;
    try {
        parse_listen_address(top.get<std::string>("listen", "HOST:PORT", "127.0.0.1:8000"), c.host, c.port);
    } catch (const Error& e) {
        top.fail(std::string("listen: ") + e.what());
    }
    c.io_threads = top.get<int>("io_threads", "a whole number", c.io_threads);
    if (c.io_threads < 0) top.fail("io_threads must be at least 1 (or 0: one per core)");
    c.default_route = top.get<std::string>("default_route", "the name of a tier or policy", "");
    if (top.has("cors")) {
        Section cors = top.child("cors");
        cors.allow_only({"allow_origins"});
        c.cors_origins = cors.require<std::vector<std::string>>("allow_origins", "a list of origins, e.g. ['https://app.example.com'] or ['*']");
    }
    if (top.has("access_log")) {
        if (top["access_log"].IsScalar()) {
            c.access_log.path = top.get<std::string>("access_log", "stderr or a file path", "");
        } else {
            Section log = top.child("access_log");
            log.allow_only({"path", "include_prompts"});
            c.access_log.path = log.require<std::string>("path", "stderr or a file path");
            c.access_log.include_prompts = log.get<bool>("include_prompts", "true or false", false);
        }
    }

    if (top.has("api_keys")) {
        const YAML::Node keys = top["api_keys"];
        if (!keys.IsSequence()) top.fail("api_keys must be a list of {name, key | key_env}");
        for (std::size_t i = 0; i < keys.size(); ++i) {
            Section k(keys[i], "api_keys[" + std::to_string(i) + "]", source);
            k.allow_only({"name", "key", "key_env"});
            ApiKey key{k.get<std::string>("name", "a string", "key" + std::to_string(i)), k.secret("key", "key_env")};
            if (key.key.empty()) k.fail(k.key("key") + " or " + k.key("key_env") + " is required");
            c.api_keys.push_back(std::move(key));
        }
    }
    if (top.has("limits")) {
        Section l = top.child("limits");
        l.allow_only({"max_body_bytes", "max_header_bytes", "max_inflight", "rate_limit_per_key", "rate_limit_burst", "drain_timeout_ms"});
        c.max_body_bytes = l.get<std::size_t>("max_body_bytes", "a number of bytes", c.max_body_bytes);
        c.max_header_bytes = l.get<std::size_t>("max_header_bytes", "a number of bytes", c.max_header_bytes);
        c.max_inflight = l.get<int>("max_inflight", "a whole number", c.max_inflight);
        if (c.max_inflight < 1) l.fail(l.key("max_inflight") + " must be at least 1");
        c.rate_limit_per_key = l.get<double>("rate_limit_per_key", "requests per second", c.rate_limit_per_key);
        c.rate_limit_burst = l.get<double>("rate_limit_burst", "a number of requests", c.rate_limit_burst);
        c.drain_timeout = ms(l.get<double>("drain_timeout_ms", "a number of milliseconds", static_cast<double>(c.drain_timeout.count())));
    }

    const YAML::Node tiers = top["tiers"];
    if (!tiers || !tiers.IsSequence() || tiers.size() == 0) top.fail("tiers must list at least one tier");
    std::set<std::string> names;
    for (std::size_t i = 0; i < tiers.size(); ++i) {
        c.tiers.push_back(parse_tier(Section(tiers[i], "tiers[" + std::to_string(i) + "]", source)));
        if (!names.insert(c.tiers.back().spec.name).second) top.fail("tiers[" + std::to_string(i) + "].name '" + c.tiers.back().spec.name + "' is used twice");
    }
    for (std::size_t i = 0; i < c.tiers.size(); ++i) {
        for (const auto& f : c.tiers[i].fallback) {
            if (!names.count(f)) top.fail("tiers[" + std::to_string(i) + "].fallback names an unknown tier '" + f + "'");
        }
    }
    if (top.has("policies")) {
        const YAML::Node policies = top["policies"];
        if (!policies.IsSequence()) top.fail("policies must be a list");
        for (std::size_t i = 0; i < policies.size(); ++i) {
            const std::string where = "policies[" + std::to_string(i) + "]";
            c.policies.push_back(parse_policy(Section(policies[i], where, source)));
            const auto& p = c.policies.back();
            if (names.count(p.name)) top.fail(where + ".name '" + p.name + "' is already a tier's name");
            for (const auto& t : p.spec.tiers) {
                if (!names.count(t)) {
                    top.fail(where + (policies[i]["file"] ? " (" + policies[i]["file"].as<std::string>() + ") uses model '" + t +
                                                                "', which is no tier: map it with models: {" + t + ": TIER}"
                                                          : ".tiers names an unknown tier '" + t + "'"));
                }
            }
        }
    }
    if (!c.default_route.empty()) {
        bool known = names.count(c.default_route) > 0;
        for (const auto& p : c.policies) known = known || p.name == c.default_route;
        if (!known) top.fail("default_route names no tier or policy: '" + c.default_route + "'");
    }
    return c;
}

void parse_listen_address(const std::string& text, std::string& host, unsigned short& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) throw Error(ErrorCode::invalid_input, "expected HOST:PORT, got '" + text + "'");
    try {
        std::size_t used = 0;
        const int p = std::stoi(text.substr(colon + 1), &used);
        if (used != text.size() - colon - 1 || p < 0 || p > 65535) throw std::out_of_range("port");
        port = static_cast<unsigned short>(p);
    } catch (const std::exception&) {
        throw Error(ErrorCode::invalid_input, "the port must be a number from 0 to 65535, got '" + text + "'");
    }
    host = text.substr(0, colon);
}

GatewayConfig load_gateway_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorCode::not_found, "cannot open config " + path);
    std::stringstream text;
    text << in.rdbuf();
    return parse_gateway_config(text.str(), path);
}

}  // namespace hiro::server
