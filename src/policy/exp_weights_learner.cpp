// Exponential weights (Hedge) over a grid of thresholds, as HIL-F (full
// feedback) and HIL-N (no feedback unless the query was offloaded) of
// Moothedath, Champati & Gross, "Online algorithms for hierarchical inference
// in deep learning applications at the edge".
//
// Experts: the K thresholds of threshold_grid. An expert's loss on a labelled
// query is `accept` when the query's confidence reaches it, else `escalate`.
// Without a label for every query, a labelled query's losses are divided by
// the chance it had of being labelled (importance weighting), so the summed
// estimates are unbiased whatever the cascade decided.
//
// Learning rate (second-order Hedge bound, Cesa-Bianchi & Lugosi, "Prediction,
// Learning, and Games", 2006, ch. 2): regret <= ln K / eta + eta/2 x sum_t
// E[sum_k w_k lhat_k^2] and E[lhat^2] <= R^2 / p_t, with R the loss range and
// p_t the label probability. With V_t = sum_{s<=t} 1/p_s the rate
//     eta_t = sqrt(2 ln K / V_t) / R
// gives regret <= R sqrt(2 V_T ln K): R sqrt(2 T ln K) with full feedback
// (p = 1) and at most R sqrt(2 T ln K / epsilon) when each query is labelled
// with probability >= epsilon (label-efficient prediction, Cesa-Bianchi,
// Lugosi & Stoltz 2005). It needs no horizon, so it runs live.
//
// Warm start: the prior puts 1 - 1/K on the warm-start threshold and spreads
// 1/K over the others, so regret against keeping it fixed is at most
// ln(1 / (1 - 1/K)) / eta ~ 1/(K eta) more than with no learning at all,
// and against any other grid threshold ln(K (K - 1)) / eta.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policy/threshold_learner.h"

namespace hiro::policy {
namespace {

class ExpWeightsLearner final : public ThresholdLearner {
public:
    explicit ExpWeightsLearner(const LearnerOptions& options)
        : grid_(threshold_grid(options.resolution, options.warm_start)),
          loss_range_(1.0 + options.lambda * static_cast<double>(options.tier_count - 1 - options.tier_index)),
          log_prior_(grid_.size()),
          estimated_loss_(grid_.size(), 0.0) {
        const auto k = static_cast<double>(grid_.size());
        for (std::size_t i = 0; i < grid_.size(); ++i) {
            const bool warm = options.warm_start && grid_[i] == *options.warm_start;
            log_prior_[i] = !options.warm_start ? -std::log(k) : warm ? std::log(1.0 - 1.0 / k) : std::log(1.0 / (k * (k - 1.0)));
        }
        refresh_weights();
    }

    double escalation_probability(double confidence) const override {
        double p = 0.0;
        for (std::size_t i = 0; i < grid_.size(); ++i) p += confidence < grid_[i] ? weights_[i] : 0.0;
        return std::clamp(p, 0.0, 1.0);
    }

    double threshold() const override {
        double mass = 0.0;
        for (std::size_t i = 0; i < grid_.size(); ++i) {
            mass += weights_[i];
            if (mass >= 0.5) return grid_[i];
        }
        return grid_.back();
    }

    void observe(const ThresholdObservation& o) override {
        const double p = std::clamp(o.label_probability, 1e-9, 1.0);
        variance_bound_ += 1.0 / p;
        if (o.losses) {
            for (std::size_t i = 0; i < grid_.size(); ++i) {
                estimated_loss_[i] += (o.confidence >= grid_[i] ? o.losses->accept : o.losses->escalate) / p;
            }
        }
        refresh_weights();
    }

    nlohmann::json state() const override {
        return {{"learner", "exp_weights"}, {"grid", grid_}, {"log_prior", log_prior_}, {"estimated_loss", estimated_loss_},
                {"variance_bound", variance_bound_}};
    }

    void restore(const nlohmann::json& state) override {
        try {
            if (state.at("learner") != "exp_weights" || state.at("grid").size() != grid_.size()) throw std::invalid_argument("grid");
            // nlohmann writes an infinite grid end as null: only the sizes are checked.
            log_prior_ = state.at("log_prior").get<std::vector<double>>();
            estimated_loss_ = state.at("estimated_loss").get<std::vector<double>>();
            variance_bound_ = state.at("variance_bound").get<double>();
            if (log_prior_.size() != grid_.size() || estimated_loss_.size() != grid_.size()) throw std::invalid_argument("size");
        } catch (const std::exception& e) {
            throw core::Error(core::ErrorCode::invalid_input, std::string("exp_weights state does not fit this learner: ") + e.what());
        }
        refresh_weights();
    }

private:
    double learning_rate() const {
        if (variance_bound_ <= 0.0) return 0.0;
        return std::sqrt(2.0 * std::log(static_cast<double>(grid_.size())) / variance_bound_) / loss_range_;
    }

    void refresh_weights() {
        const double eta = learning_rate();
        std::vector<double> log_w(grid_.size());
        for (std::size_t i = 0; i < grid_.size(); ++i) log_w[i] = log_prior_[i] - eta * estimated_loss_[i];
        const double top = *std::max_element(log_w.begin(), log_w.end());
        double total = 0.0;
        weights_.resize(grid_.size());
        for (std::size_t i = 0; i < grid_.size(); ++i) total += weights_[i] = std::exp(log_w[i] - top);
        for (auto& w : weights_) w /= total;
    }

    std::vector<double> grid_;
    double loss_range_;
    std::vector<double> log_prior_;
    std::vector<double> estimated_loss_;
    double variance_bound_ = 0.0;
    std::vector<double> weights_;
};

}  // namespace

std::unique_ptr<ThresholdLearner> make_exp_weights_learner(const LearnerOptions& options) {
    return std::make_unique<ExpWeightsLearner>(options);
}

}  // namespace hiro::policy
