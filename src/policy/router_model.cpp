#include "policy/router_model.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hiro::policy {

RouterModel::RouterModel(std::unique_ptr<FeatureExtractor> features, std::unique_ptr<QualityModel> quality, std::vector<double> tier_cost)
    : features_(std::move(features)), quality_(std::move(quality)), tier_cost_(std::move(tier_cost)) {}

std::vector<double> RouterModel::predict(std::string_view prompt) const { return quality_->predict(features_->extract(prompt)); }

std::size_t utility_choice(std::span<const double> quality, std::span<const double> cost, double lambda) {
    std::size_t best = 0;
    for (std::size_t t = 1; t < quality.size(); ++t) {
        const double u = quality[t] - lambda * cost[t], b = quality[best] - lambda * cost[best];
        if (u > b || (u == b && cost[t] < cost[best])) best = t;
    }
    return best;
}

std::size_t RouterModel::pick(const std::vector<double>& quality, double lambda) const { return utility_choice(quality, tier_cost_, lambda); }

void RouterModel::set_training(const nlohmann::json& training) { training_ = std::make_shared<const nlohmann::json>(training); }

nlohmann::json RouterModel::to_json() const {
    nlohmann::json j = {{"features", features_->to_json()}, {"quality", quality_->to_json()}, {"tier_cost", tier_cost_}};
    if (training_) j["training"] = *training_;
    return j;
}

std::shared_ptr<const RouterModel> load_router_model(const nlohmann::json* j, std::size_t tiers, std::string_view kind) {
    const std::string what = "policy '" + std::string(kind) + "'";
    if (j == nullptr || !j->is_object()) {
        throw core::Error(core::ErrorCode::invalid_input,
                          what + " needs a trained model: give the policy file `hiro router train --out FILE` wrote");
    }
    try {
        auto quality = load_quality_model(j->at("quality"));
        auto cost = j->at("tier_cost").get<std::vector<double>>();
        if (quality->models() != tiers || cost.size() != tiers) {
            throw core::Error(core::ErrorCode::invalid_input, what + ": the model was trained for " + std::to_string(quality->models()) +
                                                                   " tiers, the policy lists " + std::to_string(tiers));
        }
        return std::make_shared<RouterModel>(load_feature_extractor(j->at("features")), std::move(quality), std::move(cost));
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::invalid_input, what + ": malformed model: " + e.what());
    }
}

}  // namespace hiro::policy
