// Exponential weights (Hedge) over the continuum of thresholds, as HIL-F
// (full feedback) and HIL-N (no feedback unless the query was offloaded) of
// Moothedath, Champati & Gross, "Online algorithms for hierarchical inference
// in deep learning applications at the edge".
//
// Experts: every threshold p on the probability scale (accept a query when
// exp(confidence) >= p), p in [0, 1 + 1/G), where p > 1 escalates everything.
// As in HIL-F, the axis is cut into cells at the confidences seen (the prior,
// prior_mass below, shared out), so every threshold of a cell has had the same losses and
// the weights are piecewise constant: the comparator is the best threshold
// of the continuum, not of a grid (a fixed grid of 64 missed TriviaQA's best
// threshold, p = 0.99, between 63/64 and 1). Beyond 4,096 cells a confidence
// snaps to the nearest cut instead (memory stays bounded when serving).
// Without a label for every query, a labelled query's losses are divided by
// the chance it had of being labelled (importance weighting), so the summed
// estimates are unbiased whatever the cascade decided.
//
// Learning rate: AdaHedge (de Rooij, van Erven, Grunwald & Koolen, "Follow
// the leader if you can, hedge if you must", JMLR 2014): eta_t = ln K /
// Delta_{t-1}, Delta the summed mixability gaps (mixture loss minus mix
// loss), K = G + 1 (ln K stands for ln 1/prior mass of the comparator's
// cell; K is that of a cell 1/(G+1) of the prior wide). No horizon and no
// loss range needed, so it runs live; regret <= 2 sqrt(S ln K L*(T-L*)/T) +
// O(S ln K) for losses of range S (S = R/epsilon for importance-weighted
// ones), and it follows the leader while the data are easy. The worst-case
// rates, sqrt(8 ln K / t)/R (full) and sqrt(2 ln K / sum 1/p_t)/R (importance
// weighted), learned too slowly on the shared files (docs/online.md).
// Drift: losses and gaps fade by 1 - 1/memory per query (the discounted
// Hedge of tracking regret), so old regimes are forgotten after about
// `memory` queries; 500 by default.
// Decision: the weighted majority of the thresholds (escalate when more than
// half the weight escalates), deterministic as Littlestone & Warmuth's
// weighted majority; sampling a threshold (Hedge proper) cost 0.5-2 points
// more loss on the shared files.
// Warm start: the prior puts 1 - 1/K on the warm-start threshold (a point)
// and 1/K on the continuum, so the learner keeps it until the data beat it
// by about ln K / eta.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policy/threshold_learner.h"

namespace hiro::policy {
namespace {

constexpr std::size_t max_cells = 4096;

// Thresholds p in [lo, hi) on the probability scale (a point when lo == hi).
struct Cell {
    double lo = 0.0, hi = 0.0;
    double log_prior = 0.0;  // log of the prior mass
    double loss = 0.0;       // summed (importance-weighted) loss of its thresholds
};

class ExpWeightsLearner final : public ThresholdLearner {
public:
    explicit ExpWeightsLearner(const LearnerOptions& options)
        : experts_(static_cast<double>(options.resolution) + 1.0),
          discount_(options.memory > 0.0 ? 1.0 - 1.0 / options.memory : 1.0) {
        const double top = 1.0 + 1.0 / static_cast<double>(options.resolution);
        if (options.warm_start) {
            const double warm = std::clamp(std::exp(*options.warm_start), 0.0, top);
            const double rest = std::log(1.0 / experts_);
            if (warm > 0.0) cells_.push_back({0.0, warm, rest + std::log(prior_mass(0.0, warm)), 0.0});
            cells_.push_back({warm, warm, std::log(1.0 - 1.0 / experts_), 0.0});
            if (warm < top) cells_.push_back({warm, top, rest + std::log(prior_mass(warm, top)), 0.0});
        } else {
            cells_.push_back({0.0, top, 0.0, 0.0});
        }
        weights_from_losses();
    }

    double escalation_probability(double confidence) const override {
        const double p = std::exp(confidence);
        double escalate = 0.0;
        for (std::size_t i = 0; i < cells_.size(); ++i) escalate += weights_[i] * share_escalating(cells_[i], p);
        return escalate > 0.5 ? 1.0 : 0.0;
    }

    double threshold() const override {
        double mass = 0.0;
        for (std::size_t i = 0; i < cells_.size(); ++i) {
            if (mass + weights_[i] >= 0.5) {
                const Cell& c = cells_[i];
                return std::log(c.lo + (c.hi - c.lo) * (0.5 - mass) / weights_[i]);
            }
            mass += weights_[i];
        }
        return std::log(cells_.back().hi);
    }

    void observe(const ThresholdObservation& o) override {
        if (discount_ < 1.0) {
            for (auto& c : cells_) c.loss *= discount_;
            mixability_gap_ *= discount_;
        }
        if (!o.losses) return weights_from_losses();
        const double p_label = std::clamp(o.label_probability, 1e-9, 1.0);
        const double p = cut_at(std::exp(o.confidence));
        weights_from_losses();  // a cut shares a cell's weight; the mixture is unchanged
        // AdaHedge's mixability gap: the mixture's loss minus its mix loss.
        const double eta = learning_rate();
        std::vector<double> loss(cells_.size());
        for (std::size_t i = 0; i < cells_.size(); ++i) loss[i] = (cells_[i].hi <= p ? o.losses->accept : o.losses->escalate) / p_label;
        const double least = *std::min_element(loss.begin(), loss.end());
        double mixture = 0.0, mix = 0.0;
        for (std::size_t i = 0; i < cells_.size(); ++i) {
            cells_[i].loss += loss[i];
            mixture += weights_[i] * loss[i];
            if (std::isfinite(eta)) mix += weights_[i] * std::exp(-eta * (loss[i] - least));
        }
        const double mix_loss = std::isfinite(eta) ? least - std::log(mix) / eta : least;
        mixability_gap_ += std::max(0.0, mixture - mix_loss);
        weights_from_losses();
    }

    nlohmann::json state() const override {
        nlohmann::json cells = nlohmann::json::array();
        for (const auto& c : cells_) cells.push_back({c.lo, c.hi, c.log_prior, c.loss});
        return {{"learner", "exp_weights"}, {"cells", cells}, {"mixability_gap", mixability_gap_}};
    }

    void restore(const nlohmann::json& state) override {
        try {
            if (state.at("learner") != "exp_weights") throw std::invalid_argument("learner");
            std::vector<Cell> cells;
            for (const auto& c : state.at("cells")) cells.push_back({c.at(0).get<double>(), c.at(1).get<double>(), c.at(2).get<double>(), c.at(3).get<double>()});
            if (cells.empty()) throw std::invalid_argument("no cells");
            cells_ = std::move(cells);
            mixability_gap_ = state.at("mixability_gap").get<double>();
        } catch (const std::exception& e) {
            throw core::Error(core::ErrorCode::invalid_input, std::string("exp_weights state does not fit this learner: ") + e.what());
        }
        weights_from_losses();
    }

private:
    // The share of a cell's thresholds that escalate an answer of probability p.
    static double share_escalating(const Cell& c, double p) {
        if (c.hi <= p) return 0.0;
        if (c.lo >= p) return 1.0;
        return (c.hi - p) / (c.hi - c.lo);
    }

    // The prior's mass on thresholds in [lo, hi): an even mixture of uniform
    // in probability and uniform in log-odds over |z| <= ln G^2 (where LLM
    // confidences crowd, near p = 1, a uniform prior in p is thin), with
    // 1/(G+1) of it on escalating everything (p in (1, 1 + 1/G)).
    double prior_mass(double lo, double hi) const {
        const auto cumulative = [&](double p) {
            const double in_p = std::min(p, 1.0);
            const double z = in_p <= 0.0 ? -log_odds_limit_ : in_p >= 1.0 ? log_odds_limit_ : std::log(in_p / (1.0 - in_p));
            const double in_z = (std::clamp(z, -log_odds_limit_, log_odds_limit_) + log_odds_limit_) / (2.0 * log_odds_limit_);
            const double beyond = std::clamp((p - 1.0) * (experts_ - 1.0), 0.0, 1.0);
            return (1.0 - 1.0 / experts_) * (0.5 * in_p + 0.5 * in_z) + beyond / experts_;
        };
        return cumulative(hi) - cumulative(lo);
    }

    // Cuts the cell holding p there (its prior mass shared by the prior), so each
    // cell either accepts or escalates the answer; at capacity, p moves to
    // the nearest existing cut. Returns the cut used.
    double cut_at(double p) {
        auto it = std::find_if(cells_.begin(), cells_.end(), [&](const Cell& c) { return c.lo < p && p < c.hi; });
        if (it == cells_.end()) return p;
        if (cells_.size() >= max_cells) return p - it->lo < it->hi - p ? it->lo : it->hi;
        Cell upper = *it;
        const double whole = prior_mass(it->lo, it->hi);
        it->log_prior += std::log(prior_mass(it->lo, p) / whole);
        it->hi = p;
        upper.log_prior += std::log(prior_mass(p, upper.hi) / whole);
        upper.lo = p;
        cells_.insert(it + 1, upper);
        return p;
    }

    // AdaHedge: eta = ln K / (mixability gaps so far); infinite (follow the
    // leader, ties by the prior) until the mixture first loses to its mix loss.
    double learning_rate() const { return mixability_gap_ > 0.0 ? std::log(experts_) / mixability_gap_ : INFINITY; }

    void weights_from_losses() {
        const double eta = learning_rate();
        weights_.resize(cells_.size());
        if (!std::isfinite(eta)) {
            // The prior restricted to the cells of least loss.
            double least = INFINITY;
            for (const auto& c : cells_) least = std::min(least, c.loss);
            for (std::size_t i = 0; i < cells_.size(); ++i) weights_[i] = cells_[i].loss <= least + 1e-12 ? cells_[i].log_prior : -INFINITY;
        } else {
            for (std::size_t i = 0; i < cells_.size(); ++i) weights_[i] = cells_[i].log_prior - eta * cells_[i].loss;
        }
        const double top = *std::max_element(weights_.begin(), weights_.end());
        double total = 0.0;
        for (auto& w : weights_) total += w = std::exp(w - top);
        for (auto& w : weights_) w /= total;
    }

    double experts_;
    double log_odds_limit_ = 2.0 * std::log(experts_ - 1.0);
    std::vector<Cell> cells_;
    double discount_;              // per query: 1 - 1/memory, or 1 (remember everything)
    double mixability_gap_ = 0.0;  // AdaHedge's Delta_t
    std::vector<double> weights_;
};

}  // namespace

std::unique_ptr<ThresholdLearner> make_exp_weights_learner(const LearnerOptions& options) {
    return std::make_unique<ExpWeightsLearner>(options);
}

}  // namespace hiro::policy
