#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/feature_extractor.h"
#include "policy/quality_model.h"

namespace hiro::policy {

// A trained router's learned parameters (the "model" of its policy file):
// the feature extractor, the quality model (P(correct) per tier, in the
// policy's tier order) and each tier's relative cost per query (the costliest
// tier is 1; without recorded costs, tiers are priced 0..1 by position so
// lambda trades accuracy against calls to the costly tiers).
class RouterModel {
public:
    RouterModel(std::unique_ptr<FeatureExtractor> features, std::unique_ptr<QualityModel> quality, std::vector<double> tier_cost);

    std::vector<double> predict(std::string_view prompt) const;
    const std::vector<double>& tier_cost() const { return tier_cost_; }
    // The utility choice: argmax over tiers of quality - lambda * cost
    // (ties go to the cheaper tier).
    std::size_t pick(const std::vector<double>& quality, double lambda) const;

    // What it was fitted on (file, queries, prompt fingerprints), written with it
    // so that a replay on the same queries can be flagged as in-sample.
    void set_training(const nlohmann::json& training);
    nlohmann::json to_json() const;

private:
    std::unique_ptr<FeatureExtractor> features_;
    std::unique_ptr<QualityModel> quality_;
    std::vector<double> tier_cost_;
    std::shared_ptr<const nlohmann::json> training_;
};

// argmax over tiers of quality - lambda * cost; ties go to the cheaper tier.
std::size_t utility_choice(std::span<const double> quality, std::span<const double> cost, double lambda);

// Rebuilds the model of a policy over `tiers` tiers; throws an invalid_input
// Error when it is missing, malformed or sized for another number of tiers.
std::shared_ptr<const RouterModel> load_router_model(const nlohmann::json* j, std::size_t tiers, std::string_view kind);

}  // namespace hiro::policy
