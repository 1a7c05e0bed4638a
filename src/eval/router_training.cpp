#include "eval/router_training.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "policy/stable_hash.h"

namespace hiro::eval {

std::vector<double> relative_tier_cost(const core::OutcomeSet& set, const std::vector<std::string>& tiers) {
    std::vector<double> cost;
    bool all_costed = true;
    for (const auto& t : tiers) {
        const std::size_t m = set.model_index(t);
        all_costed = all_costed && set.has_cost(m);
        cost.push_back(set.total_cost(m));
    }
    const double top = cost.empty() ? 0.0 : *std::max_element(cost.begin(), cost.end());
    for (std::size_t i = 0; i < cost.size(); ++i) {
        cost[i] = all_costed && top > 0 ? cost[i] / top : (tiers.size() > 1 ? static_cast<double>(i) / static_cast<double>(tiers.size() - 1) : 0.0);
    }
    return cost;
}


std::uint32_t prompt_fingerprint(std::string_view prompt) {
    return static_cast<std::uint32_t>(policy::stable_hash(prompt, 0x726f75746572ULL) >> 32);
}

std::shared_ptr<const policy::RouterModel> train_router(const core::OutcomeSet& train, const RouterTrainOptions& options) {
    if (options.tiers.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "a router needs at least two models (--models A,B,...)");
    std::vector<std::size_t> models;
    for (const auto& t : options.tiers) models.push_back(train.model_index(t));
    std::vector<std::string_view> prompts;
    for (const auto& r : train.records) prompts.push_back(r.prompt);
    auto features = policy::fit_features(prompts, options.features);
    policy::TrainingData data;
    data.dimension = features->dimension();
    for (const auto& r : train.records) {
        data.x.push_back(features->extract(r.prompt));
        std::vector<float> y;
        for (std::size_t m : models) y.push_back(r.models[m].correct ? 1.0f : 0.0f);
        data.y.push_back(std::move(y));
    }
    auto quality = policy::fit_quality_model(options.method, data, options.fit);
    auto model = std::make_shared<policy::RouterModel>(std::move(features), std::move(quality), relative_tier_cost(train, options.tiers));
    nlohmann::json hashes = nlohmann::json::array();
    for (const auto& r : train.records) hashes.push_back(prompt_fingerprint(r.prompt));
    model->set_training({{"data", train.source}, {"queries", train.size()}, {"prompt_hashes", std::move(hashes)}});
    return model;
}

policy::PolicySpec router_spec(const policy::RouterModel& model, const std::vector<std::string>& tiers, double lambda) {
    policy::PolicySpec spec{"router", tiers, {}, {{"lambda", lambda}}};
    spec.model = std::make_shared<const nlohmann::json>(model.to_json());
    return spec;
}

Predictions predict_quality(const policy::RouterModel& model, const core::OutcomeSet& set) {
    Predictions p;
    p.reserve(set.size());
    for (const auto& r : set.records) p.push_back(model.predict(r.prompt));
    return p;
}

FoldTrainer router_trainer(RouterTrainOptions options) {
    return [options = std::move(options)](const core::OutcomeSet& train, const core::OutcomeSet& test) {
        return predict_quality(*train_router(train, options), test);
    };
}

Predictions out_of_fold_predictions(const core::OutcomeSet& set, const std::vector<Fold>& folds, const FoldTrainer& fit_and_predict) {
    Predictions all(set.size());
    for (const auto& fold : folds) {
        const Predictions p = fit_and_predict(subset(set, fold.train), subset(set, fold.test));
        for (std::size_t i = 0; i < fold.test.size(); ++i) all[fold.test[i]] = p.at(i);
    }
    return all;
}

}  // namespace hiro::eval
