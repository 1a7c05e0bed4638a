#include "server/gateway_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "server/config_section.h"
#include "server/redis_connection.h"
#include "policy/confidence_estimator.h"
#include "policy/registry.h"

namespace hiro::server {
namespace {

using core::Error;
using core::ErrorCode;

TuningSettings parse_tuning(const Section& o) {
    o.allow_only({"state_file", "state", "match", "embedding_tier", "min_cosine", "feedback_window_s", "save_every_s"});
    TuningSettings t;
    t.state_file = o.file("state_file", "a path", false);
    const auto where = o.get<std::string>("state", "file or redis", t.state_file.empty() ? "" : "file");
    if (where == "redis") {
        t.state_in_redis = true;
    } else if (where != "file" && !where.empty()) {
        o.fail(o.key("state") + " must be file (with state_file) or redis (with the top-level state.redis), got '" + where + "'");
    }
    if (where == "file" && t.state_file.empty()) o.fail(o.key("state") + " is file, but " + o.key("state_file") + " is not set");
    if (t.state_in_redis && !t.state_file.empty()) o.fail("give " + o.key("state_file") + " or " + o.key("state") + ": redis, not both");
    t.match = o.get<std::string>("match", "exact, normalized, choice or embedding", t.match);
    if (t.match == "embedding") {
        t.embedding_tier = o.require<std::string>("embedding_tier", "the name of a tier that serves embeddings");
        t.min_cosine = o.get<double>("min_cosine", "a number between -1 and 1", t.min_cosine);
        if (!(t.min_cosine >= -1 && t.min_cosine <= 1)) o.fail(o.key("min_cosine") + " must be between -1 and 1");
    } else if (t.match != "exact" && t.match != "normalized" && t.match != "choice") {
        o.fail(o.key("match") + " must be exact, normalized, choice or embedding, got '" + t.match + "'");
    } else if (o.has("embedding_tier") || o.has("min_cosine")) {
        o.fail(o.key("embedding_tier") + " and " + o.key("min_cosine") + " go with match: embedding");
    }
    const double window = o.get<double>("feedback_window_s", "a number of seconds", static_cast<double>(t.feedback_window.count()));
    if (!(window >= 0)) o.fail(o.key("feedback_window_s") + " must be at least 0 (0: learn at once, without waiting for feedback)");
    t.feedback_window = std::chrono::seconds(static_cast<long>(window));
    const double save = o.get<double>("save_every_s", "a number of seconds", static_cast<double>(t.save_every.count()));
    if (!(save >= 1)) o.fail(o.key("save_every_s") + " must be at least 1");
    t.save_every = std::chrono::seconds(static_cast<long>(save));
    return t;
}

PolicySettings parse_policy(const Section& p) {
    p.allow_only({"name", "kind", "tiers", "thresholds", "params", "file", "confidence", "defaults", "models", "deadline_ms", "task_router",
                  "online"});
    PolicySettings s;
    s.name = p.require<std::string>("name", "a string");
    std::string file;
    if (p.has("file")) {
        file = p.file("file", "a path", true);
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
    if (p.has("deadline_ms")) {
        s.deadline_ms = p.get<double>("deadline_ms", "a number of milliseconds", 0.0);
        if (!(*s.deadline_ms > 0)) p.fail(p.key("deadline_ms") + " must be above 0");
    }
    if (p.has("task_router")) {
        try {
            s.task_router = policy::load_task_router(p.file("task_router", "the path of a task router file", true));
        } catch (const Error& e) {
            p.fail(p.key("task_router") + ": " + e.what());
        }
    }
    if (p.has("online")) {
        if (s.spec.kind != "adaptive_cascade") p.fail(p.key("online") + " configures how an adaptive_cascade learns; this policy is " + s.spec.kind);
        s.online = parse_tuning(p.child("online"));
    }
    try {
        policy::make_policy(s.spec);
        policy::make_confidence_estimator(s.confidence);
    } catch (const Error& e) {
        p.fail(p.path() + ": " + e.what());
    }
    return s;
}

// A key's limits: `base` where the section says nothing.
KeyLimits parse_key_limits(const Section& l, KeyLimits base) {
    l.allow_only({"requests_per_minute", "tokens_per_minute", "budget_usd_per_day", "budget_usd_per_month", "reserve_completion_tokens"});
    auto positive = [&](const char* k, double fallback) {
        const double v = l.get<double>(k, "a number", fallback);
        l.not_negative(k, v, " (0: no limit)");
        return v;
    };
    base.requests_per_minute = positive("requests_per_minute", base.requests_per_minute);
    base.tokens_per_minute = positive("tokens_per_minute", base.tokens_per_minute);
    base.budget_usd_per_day = positive("budget_usd_per_day", base.budget_usd_per_day);
    base.budget_usd_per_month = positive("budget_usd_per_month", base.budget_usd_per_month);
    base.reserve_completion_tokens = l.get<std::int64_t>("reserve_completion_tokens", "a whole number of tokens", base.reserve_completion_tokens);
    if (base.reserve_completion_tokens < 1) l.fail(l.key("reserve_completion_tokens") + " must be at least 1");
    return base;
}

SharedState parse_state(const Section& s) {
    s.allow_only({"redis", "password_env", "on_unavailable", "timeout_ms", "share_breakers"});
    SharedState state;
    state.redis_url = s.require<std::string>("redis", "a URL redis://HOST:PORT/DB");
    try {
        parse_redis_url(state.redis_url);
    } catch (const Error& e) {
        s.fail(s.key("redis") + ": " + e.what());
    }
    const auto mode = s.get<std::string>("on_unavailable", "open or closed", "open");
    if (mode != "open" && mode != "closed") {
        s.fail(s.key("on_unavailable") + " must be open (per-process limits while Redis is down) or closed (503), got '" + mode + "'");
    }
    state.fail_open = mode == "open";
    const double timeout = s.get<double>("timeout_ms", "a number of milliseconds", static_cast<double>(state.timeout.count()));
    if (!(timeout >= 1)) s.fail(s.key("timeout_ms") + " must be at least 1");
    state.timeout = ms(timeout);
    state.share_breakers = s.get<bool>("share_breakers", "true or false", false);
    state.redis_password = s.secret("password", "password_env");
    return state;
}

// base_dir: where relative paths resolve from (empty: the working directory).
GatewayConfig parse_config(const std::string& yaml_text, const std::string& source, const std::string& base_dir) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw Error(ErrorCode::invalid_input, source + ": not valid YAML: " + e.what());
    }
    Section top(root, "", source, base_dir);
    top.allow_only({"listen", "io_threads", "api_keys", "limits", "state", "tiers", "policies", "default_route", "cors", "access_log"});
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
            if (c.access_log.path != "stderr") c.access_log.path = top.resolve(c.access_log.path);
        } else {
            Section log = top.child("access_log");
            log.allow_only({"path", "include_prompts"});
            c.access_log.path = log.require<std::string>("path", "stderr or a file path");
            if (c.access_log.path != "stderr") c.access_log.path = log.resolve(c.access_log.path);
            c.access_log.include_prompts = log.get<bool>("include_prompts", "true or false", false);
        }
    }

    if (top.has("limits")) {
        Section l = top.child("limits");
        for (const char* moved : {"rate_limit_per_key", "rate_limit_burst"}) {
            if (l.has(moved)) l.fail(l.key(moved) + " is gone: set requests_per_minute under limits.per_key (every key) or api_keys[].limits (one key)");
        }
        l.allow_only({"max_body_bytes", "max_header_bytes", "max_inflight", "drain_timeout_ms", "per_key"});
        c.max_body_bytes = l.get<std::size_t>("max_body_bytes", "a number of bytes", c.max_body_bytes);
        c.max_header_bytes = l.get<std::size_t>("max_header_bytes", "a number of bytes", c.max_header_bytes);
        c.max_inflight = l.get<int>("max_inflight", "a whole number", c.max_inflight);
        if (c.max_inflight < 1) l.fail(l.key("max_inflight") + " must be at least 1");
        c.drain_timeout = ms(l.get<double>("drain_timeout_ms", "a number of milliseconds", static_cast<double>(c.drain_timeout.count())));
        if (l.has("per_key")) c.key_limits = parse_key_limits(l.child("per_key"), c.key_limits);
    }
    if (top.has("state")) c.state = parse_state(top.child("state"));
    if (top.has("api_keys")) {
        const YAML::Node keys = top["api_keys"];
        if (!keys.IsSequence()) top.fail("api_keys must be a list of {name, key | key_env}");
        for (std::size_t i = 0; i < keys.size(); ++i) {
            Section k(keys[i], "api_keys[" + std::to_string(i) + "]", source, base_dir);
            k.allow_only({"name", "key", "key_env", "admin", "limits"});
            ApiKey key{k.get<std::string>("name", "a string", "key" + std::to_string(i)), k.secret("key", "key_env"),
                       k.get<bool>("admin", "true or false", false), c.key_limits};
            if (key.key.empty()) k.fail(k.key("key") + " or " + k.key("key_env") + " is required");
            if (k.has("limits")) key.limits = parse_key_limits(k.child("limits"), c.key_limits);
            for (const auto& other : c.api_keys) {
                if (other.name == key.name) k.fail(k.key("name") + " '" + key.name + "' is used twice: limits and usage are kept by name");
            }
            c.api_keys.push_back(std::move(key));
        }
    }
    const YAML::Node tiers = top["tiers"];
    if (!tiers || !tiers.IsSequence() || tiers.size() == 0) top.fail("tiers must list at least one tier");
    std::set<std::string> names;
    for (std::size_t i = 0; i < tiers.size(); ++i) {
        c.tiers.push_back(parse_tier(Section(tiers[i], "tiers[" + std::to_string(i) + "]", source, base_dir)));
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
            c.policies.push_back(parse_policy(Section(policies[i], where, source, base_dir)));
            const auto& p = c.policies.back();
            if (names.count(p.name)) top.fail(where + ".name '" + p.name + "' is already a tier's name");
            for (const auto& t : p.spec.tiers) {
                if (!names.count(t)) {
                    top.fail(where + (policies[i]["file"] ? " (" + policies[i]["file"].as<std::string>() + ") uses model '" + t +
                                                                "', which is no tier: map it with models: {" + t + ": TIER}"
                                                          : ".tiers names an unknown tier '" + t + "'"));
                }
            }
            if (p.online.state_in_redis && c.state.redis_url.empty()) {
                top.fail(where + ".online.state is redis, but no state.redis is configured (add state: {redis: redis://HOST:PORT/0})");
            }
            if (!p.online.embedding_tier.empty() && !names.count(p.online.embedding_tier)) {
                top.fail(where + ".online.embedding_tier names an unknown tier '" + p.online.embedding_tier + "'");
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

}  // namespace

GatewayConfig parse_gateway_config(const std::string& yaml_text, const std::string& source) { return parse_config(yaml_text, source, ""); }

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
    // Paths in the config are relative to its folder, wherever hiro runs from.
    return parse_config(text.str(), path, std::filesystem::absolute(path).parent_path().string());
}

}  // namespace hiro::server
