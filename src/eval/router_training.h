#pragma once

#include <functional>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.h"
#include "eval/cross_validation.h"
#include "policy/feature_extractor.h"
#include "policy/policy_spec.h"
#include "policy/quality_model.h"
#include "policy/router_model.h"

namespace hiro::eval {

struct RouterTrainOptions {
    std::string method = "logistic";  // a quality model kind: logistic, knn, mf
    std::vector<std::string> tiers;   // cheapest first
    policy::FeatureOptions features;
    policy::FitOptions fit;
};

// Each tier's cost per query relative to the costliest (from cost_usd); by
// position 0..1 when the file records no costs.
std::vector<double> relative_tier_cost(const core::OutcomeSet& set, const std::vector<std::string>& tiers);

// Fits features and a quality model on `train` only (the caller chooses the
// rows: a train split or the training folds).
std::shared_ptr<const policy::RouterModel> train_router(const core::OutcomeSet& train, const RouterTrainOptions& options);

// The policy file of a trained router: kind "router" with the model embedded.
// A router that train_router fitted also records what it was trained on, as
// model.training = {data: the file, queries, prompt_hashes: prompt_fingerprint
// of each training prompt}, so `hiro eval` can warn when it is replayed on them.
policy::PolicySpec router_spec(const policy::RouterModel& model, const std::vector<std::string>& tiers, double lambda);

// A 32-bit hash of a prompt (the same on every machine), as router files record them.
std::uint32_t prompt_fingerprint(std::string_view prompt);

// P(correct) per row and tier.
using Predictions = std::vector<std::vector<double>>;
Predictions predict_quality(const policy::RouterModel& model, const core::OutcomeSet& set);

// Fits on each fold's training rows and predicts its test rows; the result is
// every row's out-of-fold prediction. `fit_and_predict` sees only the
// training rows of a fold as its first argument.
using FoldTrainer = std::function<Predictions(const core::OutcomeSet& train, const core::OutcomeSet& test)>;
Predictions out_of_fold_predictions(const core::OutcomeSet& set, const std::vector<Fold>& folds, const FoldTrainer& fit_and_predict);

// The FoldTrainer of a router: fitted with `options` on the first set,
// predicting the second.
FoldTrainer router_trainer(RouterTrainOptions options);

}  // namespace hiro::eval
