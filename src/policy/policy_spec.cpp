#include "policy/policy_spec.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/yaml_json.h"

namespace hiro::policy {

using core::Error;
using core::ErrorCode;

double PolicySpec::param(const std::string& name, double fallback) const {
    auto it = params.find(name);
    return it == params.end() ? fallback : it->second;
}

void to_json(nlohmann::json& j, const PolicySpec& spec) {
    j = nlohmann::json{{"kind", spec.kind}, {"tiers", spec.tiers}};
    if (!spec.thresholds.empty()) j["thresholds"] = spec.thresholds;
    if (!spec.params.empty()) j["params"] = spec.params;
    if (spec.model) j["model"] = *spec.model;
    if (!spec.confidence.empty()) j["confidence"] = spec.confidence;
}

void from_json(const nlohmann::json& j, PolicySpec& spec) {
    if (!j.is_object()) throw Error(ErrorCode::invalid_input, "a policy must be an object {kind, tiers, thresholds?, params?, model?}");
    auto field = [&](const char* key) -> const nlohmann::json* {
        auto it = j.find(key);
        return it == j.end() ? nullptr : &*it;
    };
    try {
        const auto* kind = field("kind");
        if (!kind) throw Error(ErrorCode::invalid_input, "policy.kind is missing");
        spec.kind = kind->get<std::string>();
        const auto* tiers = field("tiers");
        if (!tiers) throw Error(ErrorCode::invalid_input, "policy.tiers is missing");
        spec.tiers = tiers->get<std::vector<std::string>>();
        if (const auto* t = field("thresholds")) spec.thresholds = t->get<std::vector<double>>();
        if (const auto* p = field("params")) spec.params = p->get<std::map<std::string, double>>();
        if (const auto* m = field("model")) spec.model = std::make_shared<const nlohmann::json>(*m);
        if (const auto* c = field("confidence")) spec.confidence = c->get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorCode::invalid_input, std::string("policy: wrong type: ") + e.what());
    }
}

PolicySpec load_policy_spec(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorCode::not_found, "cannot open policy file " + path);
    nlohmann::json j;
    try {
        const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
        j = yaml ? core::yaml_to_json<nlohmann::json>(YAML::LoadFile(path)) : nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw Error(ErrorCode::invalid_input, path + ": cannot parse: " + e.what());
    }
    try {
        return j.get<PolicySpec>();
    } catch (const Error& e) {
        throw Error(e.code(), path + ": " + e.what());
    }
}

namespace {
std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, sep)) parts.push_back(part);
    return parts;
}

double number(const std::string& text, const std::string& what) {
    try {
        std::size_t used = 0;
        double d = std::stod(text, &used);
        if (used == text.size()) return d;
    } catch (const std::exception&) {
    }
    throw Error(ErrorCode::invalid_input, what + ": '" + text + "' is not a number");
}
}  // namespace

PolicySpec parse_policy_argument(const std::string& text) {
    if (std::filesystem::is_regular_file(text)) return load_policy_spec(text);
    const auto parts = split(text, ':');
    const std::string usage = "--policy '" + text + "': expected a policy file or KIND:TIER,TIER[:thresholds=T,...][:NAME=VALUE]";
    if (parts.size() < 2 || parts[0].empty() || parts[1].empty()) throw Error(ErrorCode::invalid_input, usage);
    PolicySpec spec;
    spec.kind = parts[0];
    spec.tiers = split(parts[1], ',');
    for (std::size_t i = 2; i < parts.size(); ++i) {
        const auto eq = parts[i].find('=');
        if (eq == std::string::npos) throw Error(ErrorCode::invalid_input, usage);
        const std::string name = parts[i].substr(0, eq), value = parts[i].substr(eq + 1);
        if (name == "thresholds") {
            for (const auto& t : split(value, ',')) spec.thresholds.push_back(number(t, "--policy " + name));
        } else {
            spec.params[name] = number(value, "--policy " + name);
        }
    }
    return spec;
}

}  // namespace hiro::policy
