#pragma once

#include <vector>

#include "core/outcome.h"
#include "eval/pareto.h"
#include "eval/router_training.h"
#include "eval/two_tier_sweep.h"

namespace hiro::eval {

// RouteLLM's metrics for a router between the cheapest and the last tier:
// queries go to the strong model in order of predicted gain
// P(strong correct) - P(weak correct), largest first.
std::vector<double> gain_scores(const Predictions& p, std::size_t weak_tier, std::size_t strong_tier);

// APGR, and CPT(x): the share of calls to the strong model at which the router
// recovers x of the accuracy gap between the two models.
struct RouterMetrics {
    double apgr = 0.0, cpt50 = 0.0, cpt80 = 0.0;
};
RouterMetrics router_metrics(const core::OutcomeSet& set, std::size_t weak_model, std::size_t strong_model, const std::vector<double>& scores);
// The same for a router over `tiers` (cheapest first) from its predictions on
// `set`: between the first and the last tier, by predicted gain.
RouterMetrics router_metrics(const core::OutcomeSet& set, const std::vector<std::string>& tiers, const Predictions& p);

// One lambda of the utility router replayed over a file.
struct UtilityPoint {
    double lambda = 0.0;
    double accuracy = 0.0;
    double cost = 0.0;  // USD over the file (0 without recorded costs)
    std::vector<double> share;  // per tier: share of queries routed to it
};

// The utility router (argmax quality - lambda x relative cost) at every
// lambda where its choices change, from "most accurate" to "cheapest".
std::vector<UtilityPoint> utility_curve(const core::OutcomeSet& set, const std::vector<std::string>& tiers, const Predictions& p,
                                        const std::vector<double>& tier_cost);

std::vector<CostAccuracy> cost_points(const std::vector<UtilityPoint>& curve);

}  // namespace hiro::eval
