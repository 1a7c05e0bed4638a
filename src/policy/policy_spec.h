#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hiro::policy {

// Everything needed to build a policy: what `hiro eval --policy` parses from
// flags, what `hiro calibrate` writes, and what `hiro serve` loads.
struct PolicySpec {
    std::string kind;                      // a registered policy kind, e.g. "cascade"
    std::vector<std::string> tiers;        // cheapest first
    std::vector<double> thresholds;        // cascade: one per tier but the last
    std::map<std::string, double> params;  // kind-specific numbers (strong_share, min_agree, seed, lambda)
    // Learned parameters of a trained router (`model` in the policy file, as
    // `hiro router train` writes it): features, quality model, tier costs.
    std::shared_ptr<const nlohmann::json> model = nullptr;
    // The confidence signal its thresholds were tuned on (the outcome file's
    // confidence_signal, e.g. "answer_logprob"); empty when unknown. A live
    // gateway must score answers with the same signal.
    std::string confidence = std::string();

    double param(const std::string& name, double fallback) const;
};

void to_json(nlohmann::json& j, const PolicySpec& spec);
void from_json(const nlohmann::json& j, PolicySpec& spec);

// Reads a policy file (JSON or YAML, by extension) such as `hiro calibrate` writes.
PolicySpec load_policy_spec(const std::string& path);

// A policy given on the command line: the path of a policy file, or inline as
// KIND:TIER,TIER,...[:thresholds=T,T,...][:NAME=VALUE]...
// e.g. "cascade:llama3.1-8b,llama3.1-405b:thresholds=-0.5" or
// "consistency:phi-3-mini,mistral-7b-instruct-v0.2,gemini-1.5-pro:min_agree=2".
PolicySpec parse_policy_argument(const std::string& text);

}  // namespace hiro::policy
