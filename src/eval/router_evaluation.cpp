#include "eval/router_evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "policy/router_model.h"

namespace hiro::eval {

std::vector<double> gain_scores(const Predictions& p, std::size_t weak_tier, std::size_t strong_tier) {
    std::vector<double> scores;
    scores.reserve(p.size());
    for (const auto& row : p) scores.push_back(row[weak_tier] - row[strong_tier]);  // low = escalate first
    return scores;
}

RouterMetrics router_metrics(const core::OutcomeSet& set, std::size_t weak_model, std::size_t strong_model, const std::vector<double>& scores) {
    TwoTierSweep sweep(set, weak_model, strong_model, scores, Payment::router);
    const auto curve = sweep.tie_block_curve();
    const double weak = sweep.weak_accuracy(), strong = sweep.strong_accuracy();
    return {apgr(curve, weak, strong), cpt(curve, weak, strong, 0.5), cpt(curve, weak, strong, 0.8)};
}

RouterMetrics router_metrics(const core::OutcomeSet& set, const std::vector<std::string>& tiers, const Predictions& p) {
    return router_metrics(set, set.model_index(tiers.front()), set.model_index(tiers.back()), gain_scores(p, 0, tiers.size() - 1));
}

std::vector<UtilityPoint> utility_curve(const core::OutcomeSet& set, const std::vector<std::string>& tiers, const Predictions& p,
                                        const std::vector<double>& tier_cost) {
    std::vector<std::size_t> models;
    for (const auto& t : tiers) models.push_back(set.model_index(t));
    // Every lambda at which some query's choice can flip: where two tiers'
    // utilities cross. Replaying at the midpoints between consecutive
    // crossings visits every distinct choice; a bounded set of quantiles
    // keeps this O(n) replays at most 400.
    std::vector<double> crossings{0.0};
    for (const auto& row : p) {
        for (std::size_t a = 0; a < row.size(); ++a) {
            for (std::size_t b = a + 1; b < row.size(); ++b) {
                const double dc = tier_cost[b] - tier_cost[a];
                if (dc > 0 && row[b] > row[a]) crossings.push_back((row[b] - row[a]) / dc);
            }
        }
    }
    std::sort(crossings.begin(), crossings.end());
    crossings.erase(std::unique(crossings.begin(), crossings.end()), crossings.end());
    std::vector<double> lambdas;
    const std::size_t limit = 400;
    const std::size_t step = std::max<std::size_t>(1, crossings.size() / limit);
    for (std::size_t i = 0; i < crossings.size(); i += step) {
        const double next = i + step < crossings.size() ? crossings[i + step] : crossings.back() * 1.01 + 1e-9;
        lambdas.push_back((crossings[i] + next) / 2);
    }
    lambdas.insert(lambdas.begin(), 0.0);
    lambdas.push_back(crossings.back() * 2 + 1);  // past every crossing: the cheapest tier everywhere

    const auto n = static_cast<double>(set.size());
    std::vector<UtilityPoint> curve;
    for (double lambda : lambdas) {
        UtilityPoint pt{lambda, 0.0, 0.0, std::vector<double>(tiers.size(), 0.0)};
        for (std::size_t r = 0; r < set.size(); ++r) {
            const std::size_t best = policy::utility_choice(p[r], tier_cost, lambda);
            const auto& o = set.records[r].models[models[best]];
            pt.accuracy += o.correct ? 1.0 : 0.0;
            pt.cost += o.cost_usd.value_or(0.0);
            pt.share[best] += 1.0;
        }
        pt.accuracy /= n;
        for (auto& s : pt.share) s /= n;
        curve.push_back(std::move(pt));
    }
    return curve;
}

std::vector<CostAccuracy> cost_points(const std::vector<UtilityPoint>& curve) {
    std::vector<CostAccuracy> pts;
    for (const auto& pt : curve) pts.push_back({pt.cost, pt.accuracy, "lambda " + std::to_string(pt.lambda)});
    return pts;
}

}  // namespace hiro::eval
