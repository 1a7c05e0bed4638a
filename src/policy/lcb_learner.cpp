// A lower-confidence-bound learner, as HI-LCB (Al-Atat, Moothedath, Champati &
// Gross, "Regret bounds for online learning for hierarchical inference"):
// accept a tier's answer only where the accuracy it is known to have, at the
// confidence it reports, is high enough to be worth keeping.
//
// The grid's thresholds cut the confidence axis into cells. Per cell it keeps
// the mean loss of accepting (the tier's error rate) and of escalating, from
// labelled queries only. The cascade treats every query of a cell alike, so
// the labelled queries of a cell are an unbiased sample of it (escalated
// cells are all labelled, accepted ones with probability epsilon): no
// importance weights are needed. A cell switches away from its default
// decision (escalate when cold; the warm-start threshold's decision when
// warm) only when a Hoeffding interval on its error rate excludes it:
//     accept    if mean error + r <= mean escalation loss,
//     escalate  if mean error - r >  mean escalation loss,
// with r = sqrt(ln t / (2 n)) for n labels in the cell after t queries
// (failure probability 1/t per cell and step, which gives HI-LCB's
// logarithmic regret in cells where the two losses differ). The threshold is
// the lowest cell boundary above which every cell accepts (a cell no query
// has fallen in yet decides nothing).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policy/threshold_learner.h"

namespace hiro::policy {
namespace {

// Kullback-Leibler divergence of Bernoulli(q) from Bernoulli(p).
double bernoulli_kl(double p, double q) {
    const auto term = [](double a, double b) { return a > 0.0 ? a * std::log(a / b) : 0.0; };
    return term(p, q) + term(1.0 - p, 1.0 - q);
}

// The q furthest from `mean` towards `toward` (0 or 1) with n kl(mean, q) <= budget.
double kl_bound(double mean, double n, double budget, double toward) {
    double inside = mean, outside = toward;
    for (int i = 0; i < 40; ++i) {
        const double mid = 0.5 * (inside + outside);
        (n * bernoulli_kl(mean, mid) <= budget ? inside : outside) = mid;
    }
    return inside;
}

class LcbLearner final : public ThresholdLearner {
public:
    explicit LcbLearner(const LearnerOptions& options)
        : grid_(threshold_grid(options.resolution, options.warm_start)),
          default_threshold_(options.warm_start.value_or(grid_.back())),
          seen_(grid_.size() - 1, 0.0),
          labels_(grid_.size() - 1, 0.0),
          accept_loss_(grid_.size() - 1, 0.0),
          escalate_loss_(grid_.size() - 1, 0.0) {
        refresh_threshold();
    }

    double escalation_probability(double confidence) const override { return confidence < threshold_ ? 1.0 : 0.0; }
    double threshold() const override { return threshold_; }

    void observe(const ThresholdObservation& o) override {
        queries_ += 1.0;
        const std::size_t c = cell_of(o.confidence);
        seen_[c] += 1.0;
        if (o.losses) {
            labels_[c] += 1.0;
            accept_loss_[c] += o.losses->accept;
            escalate_loss_[c] += o.losses->escalate;
        }
        refresh_threshold();
    }

    nlohmann::json state() const override {
        return {{"learner", "lcb"}, {"queries", queries_}, {"seen", seen_}, {"labels", labels_}, {"accept_loss", accept_loss_}, {"escalate_loss", escalate_loss_}};
    }

    void restore(const nlohmann::json& state) override {
        try {
            if (state.at("learner") != "lcb") throw std::invalid_argument("learner");
            queries_ = state.at("queries").get<double>();
            seen_ = state.at("seen").get<std::vector<double>>();
            labels_ = state.at("labels").get<std::vector<double>>();
            accept_loss_ = state.at("accept_loss").get<std::vector<double>>();
            escalate_loss_ = state.at("escalate_loss").get<std::vector<double>>();
            const std::size_t cells = grid_.size() - 1;
            if (seen_.size() != cells || labels_.size() != cells || accept_loss_.size() != cells || escalate_loss_.size() != cells) throw std::invalid_argument("size");
        } catch (const std::exception& e) {
            throw core::Error(core::ErrorCode::invalid_input, std::string("lcb state does not fit this learner: ") + e.what());
        }
        refresh_threshold();
    }

private:
    // Cell c holds confidences in [grid_[c], grid_[c + 1]).
    std::size_t cell_of(double confidence) const {
        const auto above = std::upper_bound(grid_.begin(), grid_.end(), confidence);
        return static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(above - grid_.begin() - 1, 0, static_cast<std::ptrdiff_t>(grid_.size()) - 2));
    }

    bool accepts(std::size_t c) const {
        const bool by_default = grid_[c] >= default_threshold_;
        if (labels_[c] == 0.0) return by_default;
        const double error = accept_loss_[c] / labels_[c], escalate = escalate_loss_[c] / labels_[c];
        const double budget = std::log(std::max(queries_, 2.0));
        if (kl_bound(error, labels_[c], budget, 1.0) <= escalate) return true;
        if (kl_bound(error, labels_[c], budget, 0.0) > escalate) return false;
        return by_default;
    }

    void refresh_threshold() {
        std::optional<std::size_t> lowest;  // the lowest seen cell of the run of accepting cells from the top
        bool seen_any = false;
        for (std::size_t c = grid_.size() - 1; c-- > 0;) {
            if (seen_[c] == 0.0) continue;
            seen_any = true;
            if (!accepts(c)) break;
            lowest = c;
        }
        threshold_ = lowest ? grid_[*lowest] : seen_any ? grid_.back() : default_threshold_;
    }

    std::vector<double> grid_;
    double default_threshold_;
    double queries_ = 0.0;
    std::vector<double> seen_, labels_, accept_loss_, escalate_loss_;
    double threshold_ = 0.0;
};

}  // namespace

std::unique_ptr<ThresholdLearner> make_lcb_learner(const LearnerOptions& options) { return std::make_unique<LcbLearner>(options); }

}  // namespace hiro::policy
