#include "eval/cascade_calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "core/error.h"
#include "policy/confidence_calibration.h"

namespace hiro::eval {
namespace {

constexpr double accept_all = -std::numeric_limits<double>::max();
constexpr double escalate_all = std::numeric_limits<double>::max();

// The cascade's view of the queries it is tuned on: per query and tier the
// confidence, P(correct) (0/1 when recorded, a probability when modelled)
// and cost, plus where the query starts.
struct Table {
    std::size_t tiers = 0;
    std::vector<double> confidence, correct, cost;  // row-major, `tiers` per query
    std::vector<std::size_t> start;
    std::size_t rows() const { return start.size(); }
};

struct RowOutcome {
    double correct, cost, escalated;
};

RowOutcome run_row(const Table& t, std::size_t r, const std::vector<double>& thresholds) {
    double cost = 0.0;
    const std::size_t last = t.tiers - 1;
    for (std::size_t i = t.start[r]; i <= last; ++i) {
        cost += t.cost[r * t.tiers + i];
        if (i == last || t.confidence[r * t.tiers + i] >= thresholds[i]) {
            return {t.correct[r * t.tiers + i], cost, i > t.start[r] ? 1.0 : 0.0};
        }
    }
    return {0, cost, 0};
}

// A point of the search as each scenario (resample) sees it.
struct Scored {
    double accuracy = 0, cost = 0, escalation = 0;  // means over scenarios
    double margin = 0;                                // the `level` quantile of the target's slack
};

class Scenarios {
public:
    Scenarios(const Table& table, const CalibrationTarget& target, std::vector<std::vector<double>> weights, double level)
        : table_(table), target_(target), weights_(std::move(weights)), level_(level) {
        for (std::size_t r = 0; r < table.rows(); ++r) strong_.push_back(table.correct[r * table.tiers + table.tiers - 1]);
    }

    Scored score(const std::vector<double>& thresholds) const {
        std::vector<RowOutcome> rows;
        rows.reserve(table_.rows());
        for (std::size_t r = 0; r < table_.rows(); ++r) rows.push_back(run_row(table_, r, thresholds));
        Scored s;
        std::vector<double> slack;
        for (const auto& w : weights_) {
            double acc = 0, cost = 0, esc = 0, strong = 0, total = 0;
            for (std::size_t r = 0; r < rows.size(); ++r) {
                acc += w[r] * rows[r].correct;
                cost += w[r] * rows[r].cost;
                esc += w[r] * rows[r].escalated;
                strong += w[r] * strong_[r];
                total += w[r];
            }
            acc /= total;
            esc /= total;
            const double cost_per_1k = cost / total * 1000.0;
            s.accuracy += acc;
            s.cost += cost / total;
            s.escalation += esc;
            switch (target_.kind) {
                case CalibrationTarget::Kind::accuracy: slack.push_back(acc - target_.value); break;
                case CalibrationTarget::Kind::near_strong: slack.push_back(acc - (strong / total - target_.value)); break;
                case CalibrationTarget::Kind::cost: slack.push_back(target_.value - cost_per_1k); break;
                case CalibrationTarget::Kind::escalation: slack.push_back(target_.value - esc); break;
            }
        }
        const auto k = static_cast<double>(weights_.size());
        s.accuracy /= k;
        s.cost /= k;
        s.escalation /= k;
        // The slack that `level` of the scenarios reach or beat.
        std::sort(slack.begin(), slack.end());
        s.margin = slack[static_cast<std::size_t>(std::floor((1.0 - level_) * static_cast<double>(slack.size() - 1)))];
        return s;
    }

    bool minimise_cost() const {
        return target_.kind == CalibrationTarget::Kind::accuracy || target_.kind == CalibrationTarget::Kind::near_strong;
    }

    // Feasible beats infeasible; among feasible, the objective; among
    // infeasible, the smaller violation.
    bool better(const Scored& a, const Scored& b) const {
        const bool fa = a.margin >= -1e-12, fb = b.margin >= -1e-12;
        if (fa != fb) return fa;
        if (!fa) return a.margin > b.margin + 1e-12;
        if (minimise_cost()) return a.cost < b.cost - 1e-15 || (std::abs(a.cost - b.cost) <= 1e-15 && a.accuracy > b.accuracy + 1e-12);
        return a.accuracy > b.accuracy + 1e-12 || (std::abs(a.accuracy - b.accuracy) <= 1e-12 && a.cost < b.cost - 1e-15);
    }

private:
    const Table& table_;
    const CalibrationTarget& target_;
    std::vector<std::vector<double>> weights_;
    double level_;
    std::vector<double> strong_;
};

Table recorded_table(const core::OutcomeSet& set, const std::vector<std::string>& chain, const std::vector<std::size_t>& start) {
    Table t;
    t.tiers = chain.size();
    std::vector<std::size_t> models;
    for (const auto& c : chain) models.push_back(set.model_index(c));
    for (std::size_t r = 0; r < set.size(); ++r) {
        for (std::size_t m : models) {
            const auto& o = set.records[r].models[m];
            t.confidence.push_back(o.confidence.value_or(-std::numeric_limits<double>::infinity()));
            t.correct.push_back(o.correct ? 1.0 : 0.0);
            t.cost.push_back(o.cost_usd.value_or(0.0));
        }
        t.start.push_back(start.empty() ? 0 : start.at(r));
    }
    return t;
}

// Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9).
double normal_quantile(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
    if (p < 0.02425) {
        const double q = std::sqrt(-2 * std::log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425) return -normal_quantile(1 - p);
    const double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// The probabilistic model: confidences are drawn from a Gaussian copula whose
// correlation is that of the tiers' normal scores on train, mapped back through
// each tier's empirical quantile function (interpolated); P(correct) comes
// from each tier's isotonic calibration. Costs are each tier's mean.
// `paired` (for targets relative to the last tier) models instead how much
// each tier's correctness differs from the last tier's on the same query,
// E[correct_k - correct_last | confidence_k], plus the last tier's accuracy:
// the tiers' errors are correlated, and what a relative target needs is that
// difference, not each tier's accuracy alone.
Table modelled_table(const Table& recorded, std::size_t samples, std::uint64_t seed, bool paired) {
    const std::size_t n = recorded.rows(), k = recorded.tiers;
    std::vector<std::vector<double>> sorted(k), score(k, std::vector<double>(n));
    std::vector<policy::IsotonicMap> iso;
    std::vector<double> mean_cost(k, 0.0);
    double last_accuracy = 0.0;
    for (std::size_t r = 0; r < n; ++r) last_accuracy += recorded.correct[r * k + k - 1] / static_cast<double>(n);
    for (std::size_t t = 0; t < k; ++t) {
        std::vector<double> conf(n), corr(n);
        for (std::size_t r = 0; r < n; ++r) {
            conf[r] = recorded.confidence[r * k + t];
            corr[r] = recorded.correct[r * k + t];
            if (paired) corr[r] += last_accuracy - recorded.correct[r * k + k - 1];
            mean_cost[t] += recorded.cost[r * k + t] / static_cast<double>(n);
        }
        iso.push_back(policy::fit_isotonic(conf, corr));
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return conf[a] < conf[b]; });
        for (std::size_t i = 0; i < n; ++i) score[t][order[i]] = normal_quantile((static_cast<double>(i) + 0.5) / static_cast<double>(n));
        sorted[t] = conf;
        std::sort(sorted[t].begin(), sorted[t].end());
    }
    // Correlation of the normal scores, then its Cholesky factor.
    std::vector<double> corr(k * k, 0.0), chol(k * k, 0.0);
    for (std::size_t a = 0; a < k; ++a) {
        for (std::size_t b = 0; b < k; ++b) {
            double s = 0, sa = 0, sb = 0;
            for (std::size_t r = 0; r < n; ++r) {
                s += score[a][r] * score[b][r];
                sa += score[a][r] * score[a][r];
                sb += score[b][r] * score[b][r];
            }
            corr[a * k + b] = s / std::sqrt(sa * sb);
        }
    }
    for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = 0; j <= i; ++j) {
            double s = corr[i * k + j];
            for (std::size_t m = 0; m < j; ++m) s -= chol[i * k + m] * chol[j * k + m];
            chol[i * k + j] = i == j ? std::sqrt(std::max(s, 1e-9)) : s / chol[j * k + j];
        }
    }
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    Table t;
    t.tiers = k;
    std::vector<double> e(k);
    for (std::size_t s = 0; s < samples; ++s) {
        for (auto& v : e) v = normal(rng);
        for (std::size_t i = 0; i < k; ++i) {
            double z = 0;
            for (std::size_t j = 0; j <= i; ++j) z += chol[i * k + j] * e[j];
            // Normal CDF, then the tier's empirical quantile, linear between order statistics.
            const double u = 0.5 * std::erfc(-z / std::sqrt(2.0));
            const double pos = std::clamp(u * static_cast<double>(n) - 0.5, 0.0, static_cast<double>(n - 1));
            const auto lo = static_cast<std::size_t>(pos);
            const std::size_t hi = std::min(lo + 1, n - 1);
            const double a = sorted[i][lo], b = sorted[i][hi];
            const double conf = std::isfinite(a) && std::isfinite(b) ? a + (b - a) * (pos - static_cast<double>(lo)) : a;
            t.confidence.push_back(conf);
            t.correct.push_back(iso[i](conf));
            t.cost.push_back(mean_cost[i]);
        }
        t.start.push_back(recorded.start[s % n]);  // routed starts keep their train frequencies
    }
    return t;
}

std::vector<double> threshold_candidates(const Table& t, std::size_t tier, std::size_t count) {
    std::vector<double> values;
    for (std::size_t r = 0; r < t.rows(); ++r) {
        const double c = t.confidence[r * t.tiers + tier];
        if (std::isfinite(c)) values.push_back(c);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    std::vector<double> out{accept_all, escalate_all};
    if (values.empty()) return out;
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(values[static_cast<std::size_t>(static_cast<double>(i) / static_cast<double>(count - 1) * static_cast<double>(values.size() - 1))]);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Coordinate search from the safe end (everything escalated for accuracy
// targets, nothing for cost and escalation targets): one tier at a time, the
// best candidate threshold, until a full round changes nothing.
std::pair<std::vector<double>, Scored> coordinate_search(const Scenarios& scenarios, const std::vector<std::vector<double>>& candidates) {
    std::vector<double> thresholds(candidates.size(), scenarios.minimise_cost() ? escalate_all : accept_all);
    Scored best = scenarios.score(thresholds);
    for (int round = 0; round < 20; ++round) {
        bool moved = false;
        for (std::size_t t = candidates.size(); t-- > 0;) {  // the costly end first: it decides most of the cost
            for (double c : candidates[t]) {
                std::vector<double> trial = thresholds;
                trial[t] = c;
                const Scored s = scenarios.score(trial);
                if (scenarios.better(s, best)) {
                    best = s;
                    thresholds = std::move(trial);
                    moved = true;
                }
            }
        }
        if (!moved) break;
    }
    return {thresholds, best};
}

}  // namespace

CalibrationTarget parse_target(const std::string& text) {
    auto number_after = [&](std::size_t pos) {
        try {
            std::size_t used = 0;
            const double d = std::stod(text.substr(pos), &used);
            if (pos + used == text.size()) return d;
        } catch (const std::exception&) {
        }
        throw core::Error(core::ErrorCode::invalid_input, "--target '" + text + "': the number is missing or malformed");
    };
    CalibrationTarget t;
    t.text = text;
    if (text.starts_with("accuracy>=")) {
        t.kind = CalibrationTarget::Kind::accuracy;
        t.value = number_after(10);
    } else if (text.starts_with("strong-")) {
        t.kind = CalibrationTarget::Kind::near_strong;
        t.value = number_after(7);
    } else if (text.starts_with("cost<=")) {
        t.kind = CalibrationTarget::Kind::cost;
        t.value = number_after(6);
    } else if (text.starts_with("escalation<=")) {
        t.kind = CalibrationTarget::Kind::escalation;
        t.value = number_after(12);
    } else {
        throw core::Error(core::ErrorCode::invalid_input,
                          "--target '" + text + "': expected accuracy>=X, strong-D (accuracy >= the last tier's - D), "
                                                "cost<=USD_PER_1K_QUERIES or escalation<=SHARE");
    }
    return t;
}

SearchMethod parse_search_method(std::string_view name) {
    if (name == "empirical") return SearchMethod::empirical;
    if (name == "bootstrap") return SearchMethod::bootstrap;
    if (name == "model") return SearchMethod::model;
    if (name == "bagging") return SearchMethod::bagging;
    throw core::Error(core::ErrorCode::invalid_input, "unknown --method '" + std::string(name) + "'; known: empirical, bootstrap, model, bagging");
}

std::string_view to_string(SearchMethod method) {
    switch (method) {
        case SearchMethod::empirical: return "empirical";
        case SearchMethod::bootstrap: return "bootstrap";
        case SearchMethod::model: return "model";
        case SearchMethod::bagging: return "bagging";
    }
    return "?";
}

double gap_standard_error(const ReplayResult& replayed, const core::OutcomeSet& set) {
    const std::size_t n = replayed.chosen.size();
    if (n < 2 || n != set.size()) return 0.0;
    std::vector<std::size_t> model_of;
    for (const auto& tier : replayed.tiers) model_of.push_back(set.model_index(tier));
    double sum = 0.0, squares = 0.0;
    for (std::size_t row = 0; row < n; ++row) {
        const auto& models = set.records[row].models;
        const double d = (models[model_of[replayed.chosen[row]]].correct ? 1.0 : 0.0) - (models[model_of.back()].correct ? 1.0 : 0.0);
        sum += d;
        squares += d * d;
    }
    const double mean = sum / static_cast<double>(n);
    const double variance = (squares - static_cast<double>(n) * mean * mean) / static_cast<double>(n - 1);
    return std::sqrt(std::max(0.0, variance) / static_cast<double>(n));
}

bool meets_target(const CalibrationTarget& target, double accuracy, double cost_per_1k, double escalation, double strong_accuracy) {
    switch (target.kind) {
        case CalibrationTarget::Kind::accuracy: return accuracy >= target.value - 1e-12;
        case CalibrationTarget::Kind::near_strong: return accuracy >= strong_accuracy - target.value - 1e-12;
        case CalibrationTarget::Kind::cost: return cost_per_1k <= target.value + 1e-12;
        case CalibrationTarget::Kind::escalation: return escalation <= target.value + 1e-12;
    }
    return false;
}

CascadeCalibration calibrate_cascade(const core::OutcomeSet& train, const std::vector<std::string>& chain, const CalibrationTarget& target,
                                     const CalibrationOptions& options, const std::vector<std::size_t>& start_tier) {
    if (chain.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "--chain needs at least two models");
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        if (!train.has_confidence(train.model_index(chain[i]))) {
            throw core::Error(core::ErrorCode::invalid_input, "model '" + chain[i] + "' has no recorded confidence in " + train.source +
                                                                  "; a cascade tier needs one (all but the last)");
        }
    }
    const Table recorded = recorded_table(train, chain, start_tier);
    const Table table = options.method == SearchMethod::model
                            ? modelled_table(recorded, options.samples, options.seed, target.kind == CalibrationTarget::Kind::near_strong)
                            : recorded;
    std::vector<std::vector<double>> weights{std::vector<double>(table.rows(), 1.0)};
    double level = 1.0;
    if (options.method == SearchMethod::bootstrap || options.method == SearchMethod::bagging) {
        weights.clear();
        std::mt19937_64 rng(options.seed);
        std::uniform_int_distribution<std::size_t> pick(0, table.rows() - 1);
        for (std::size_t b = 0; b < options.resamples; ++b) {
            std::vector<double> w(table.rows(), 0.0);
            for (std::size_t i = 0; i < table.rows(); ++i) w[pick(rng)] += 1.0;
            weights.push_back(std::move(w));
        }
        level = options.method == SearchMethod::bootstrap ? options.level : 1.0;
    }
    std::vector<std::vector<double>> candidates;
    for (std::size_t t = 0; t + 1 < chain.size(); ++t) candidates.push_back(threshold_candidates(table, t, options.candidates));
    const Scenarios as_given(table, target, {std::vector<double>(table.rows(), 1.0)}, 1.0);
    auto [thresholds, best] = options.method == SearchMethod::bagging ? coordinate_search(as_given, candidates)
                                                                       : coordinate_search(Scenarios(table, target, weights, level), candidates);
    if (options.method == SearchMethod::bagging) {
        // Each resample's own best thresholds; the median per tier averages
        // away the queries any single split's optimum hinges on.
        std::vector<std::vector<double>> per_tier(candidates.size());
        for (const auto& w : weights) {
            const auto found = coordinate_search(Scenarios(table, target, {w}, 1.0), candidates).first;
            for (std::size_t t = 0; t < found.size(); ++t) per_tier[t].push_back(found[t]);
        }
        for (std::size_t t = 0; t < per_tier.size(); ++t) {
            std::nth_element(per_tier[t].begin(), per_tier[t].begin() + static_cast<std::ptrdiff_t>(per_tier[t].size() / 2), per_tier[t].end());
            thresholds[t] = per_tier[t][per_tier[t].size() / 2];
        }
        best = as_given.score(thresholds);
    }
    CascadeCalibration result;
    result.thresholds = thresholds;
    result.target_met = best.margin >= -1e-12;
    double acc = 0, cost = 0;
    for (std::size_t r = 0; r < recorded.rows(); ++r) {
        const RowOutcome o = run_row(recorded, r, thresholds);
        acc += o.correct;
        cost += o.cost;
    }
    result.accuracy = acc / static_cast<double>(recorded.rows());
    result.cost = cost;
    return result;
}

}  // namespace hiro::eval
