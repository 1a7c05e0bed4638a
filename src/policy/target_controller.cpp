// A controller that holds a target instead of minimising a loss: an
// escalation share (each tier escalates that share of the queries reaching
// it) or a cost per 1,000 queries (steered by the first tier; later tiers
// keep their starting thresholds). It needs no labels, only what each query
// did, so it works with any feedback.
//
// Stochastic approximation of a quantile (Robbins & Monro 1951): on the
// probability scale p = exp(threshold),
//     p <- clamp(p + a_t (share* - escalated_t), 0, 1)            (share)
//     p <- clamp(p + a_t (cost* - cost_t) / max cost seen, 0, 1)  (cost)
// whose fixed point is P(escalate) = share* (E[cost] = cost*). The step
// a_t = max(t^(-2/3), 1/1000) meets Robbins-Monro's conditions (sum a_t = inf,
// sum a_t^2 < inf) until the floor, which keeps it following traffic that
// changes after a few tens of thousands of queries.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policy/threshold_learner.h"

namespace hiro::policy {
namespace {

class TargetController final : public ThresholdLearner {
public:
    explicit TargetController(const LearnerOptions& options)
        : share_(options.escalation_share),
          cost_(options.cost_per_1k ? std::optional<double>(*options.cost_per_1k / 1000.0) : std::nullopt),
          moves_(share_.has_value() || options.tier_index == 0),
          probability_(std::clamp(options.warm_start ? std::exp(*options.warm_start) : 0.5, 0.0, 1.0)) {
        if (share_.has_value() == cost_.has_value()) {
            throw core::Error(core::ErrorCode::invalid_input, "a target controller needs exactly one target: an escalation share or a cost per 1,000 queries");
        }
    }

    double escalation_probability(double confidence) const override { return confidence < threshold() ? 1.0 : 0.0; }
    double threshold() const override { return std::log(probability_); }

    void observe(const ThresholdObservation& o) override {
        queries_ += 1.0;
        max_cost_ = std::max(max_cost_, o.cost_usd);
        if (!moves_) return;
        const double step = std::max(std::pow(queries_, -2.0 / 3.0), 1e-3);
        const double error = share_ ? *share_ - (o.escalated ? 1.0 : 0.0) : max_cost_ > 0 ? (*cost_ - o.cost_usd) / max_cost_ : 0.0;
        probability_ = std::clamp(probability_ + step * error, 0.0, 1.0);
    }

    nlohmann::json state() const override {
        return {{"learner", "target"}, {"queries", queries_}, {"max_cost_usd", max_cost_}, {"probability", probability_}};
    }

    void restore(const nlohmann::json& state) override {
        try {
            if (state.at("learner") != "target") throw std::invalid_argument("learner");
            queries_ = state.at("queries").get<double>();
            max_cost_ = state.at("max_cost_usd").get<double>();
            probability_ = std::clamp(state.at("probability").get<double>(), 0.0, 1.0);
        } catch (const std::exception& e) {
            throw core::Error(core::ErrorCode::invalid_input, std::string("target state does not fit this learner: ") + e.what());
        }
    }

private:
    std::optional<double> share_, cost_;  // cost in USD per query
    bool moves_;
    double probability_;
    double queries_ = 0.0, max_cost_ = 0.0;
};

}  // namespace

std::unique_ptr<ThresholdLearner> make_target_controller(const LearnerOptions& options) {
    return std::make_unique<TargetController>(options);
}

}  // namespace hiro::policy
