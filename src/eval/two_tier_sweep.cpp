#include "eval/two_tier_sweep.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "policy/stable_hash.h"

namespace hiro::eval {

TwoTierSweep::TwoTierSweep(const core::OutcomeSet& set, std::size_t weak, std::size_t strong,
                           std::span<const double> scores, Payment payment) {
    const std::size_t n = set.size();
    if (scores.size() != n) throw core::Error(core::ErrorCode::internal, "one score per query expected");
    if (n == 0) throw core::Error(core::ErrorCode::invalid_input, "cannot sweep an empty outcome set");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });

    sorted_scores_.resize(n);
    gain_prefix_.assign(n + 1, 0.0);
    cost_prefix_.assign(n + 1, 0.0);
    latency_prefix_.assign(n + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& w = set.records[order[i]].models[weak];
        const auto& s = set.records[order[i]].models[strong];
        sorted_scores_[i] = scores[order[i]];
        gain_prefix_[i + 1] = gain_prefix_[i] + (s.correct ? 1.0 : 0.0) - (w.correct ? 1.0 : 0.0);
        double extra_cost = s.cost_usd.value_or(0.0);
        double extra_latency = s.latency_ms.value_or(0.0);
        if (payment == Payment::router) {
            extra_cost -= w.cost_usd.value_or(0.0);
            extra_latency -= w.latency_ms.value_or(0.0);
        }
        cost_prefix_[i + 1] = cost_prefix_[i] + extra_cost;
        latency_prefix_[i + 1] = latency_prefix_[i] + extra_latency;
        weak_correct_ += w.correct ? 1.0 : 0.0;
        strong_correct_ += s.correct ? 1.0 : 0.0;
        base_cost_ += w.cost_usd.value_or(0.0);
        base_latency_ += w.latency_ms.value_or(0.0);
    }
}

CurvePoint TwoTierSweep::at_count(std::size_t k) const {
    const auto n = static_cast<double>(size());
    CurvePoint p;
    p.threshold = k < size() ? sorted_scores_[k] : std::numeric_limits<double>::infinity();
    p.strong_share = static_cast<double>(k) / n;
    p.accuracy = (weak_correct_ + gain_prefix_[k]) / n;
    p.cost = base_cost_ + cost_prefix_[k];
    p.latency_ms = (base_latency_ + latency_prefix_[k]) / n;
    return p;
}

CurvePoint TwoTierSweep::at_threshold(double threshold) const {
    auto k = static_cast<std::size_t>(std::lower_bound(sorted_scores_.begin(), sorted_scores_.end(), threshold) -
                                      sorted_scores_.begin());
    CurvePoint p = at_count(k);
    p.threshold = threshold;
    return p;
}

std::vector<CurvePoint> TwoTierSweep::at_thresholds(std::span<const double> thresholds) const {
    std::vector<CurvePoint> points;
    points.reserve(thresholds.size());
    for (double t : thresholds) points.push_back(at_threshold(t));
    return points;
}

std::vector<double> TwoTierSweep::even_thresholds(std::size_t count) const {
    auto finite = [](double d) { return std::isfinite(d); };
    auto lo = std::find_if(sorted_scores_.begin(), sorted_scores_.end(), finite);
    auto hi = std::find_if(sorted_scores_.rbegin(), sorted_scores_.rend(), finite);
    std::vector<double> out;
    if (lo == sorted_scores_.end() || count == 0) return out;
    // Past the highest score so that the last threshold escalates everything.
    const double a = *lo, b = std::nextafter(*hi, std::numeric_limits<double>::infinity());
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(count == 1 ? a : a + (b - a) * static_cast<double>(i) / static_cast<double>(count - 1));
    }
    return out;
}

std::vector<CurvePoint> TwoTierSweep::tie_block_curve() const {
    std::vector<CurvePoint> curve{at_count(0)};
    for (std::size_t k = 1; k <= size(); ++k) {
        if (k == size() || sorted_scores_[k] != sorted_scores_[k - 1]) curve.push_back(at_count(k));
    }
    return curve;
}

double pgr(const CurvePoint& p, double weak_accuracy, double strong_accuracy) {
    return (p.accuracy - weak_accuracy) / (strong_accuracy - weak_accuracy);
}

double apgr(std::span<const CurvePoint> curve, double weak_accuracy, double strong_accuracy) {
    double area = 0.0;
    for (std::size_t i = 1; i < curve.size(); ++i) {
        const double dx = curve[i].strong_share - curve[i - 1].strong_share;
        area += dx * (pgr(curve[i], weak_accuracy, strong_accuracy) + pgr(curve[i - 1], weak_accuracy, strong_accuracy)) / 2;
    }
    return area;
}

double cpt(std::span<const CurvePoint> curve, double weak_accuracy, double strong_accuracy, double target) {
    for (std::size_t i = 0; i < curve.size(); ++i) {
        const double y = pgr(curve[i], weak_accuracy, strong_accuracy);
        if (y < target) continue;
        if (i == 0) return curve[0].strong_share;
        const double y0 = pgr(curve[i - 1], weak_accuracy, strong_accuracy);
        const double x0 = curve[i - 1].strong_share, x1 = curve[i].strong_share;
        return x0 + (target - y0) / (y - y0) * (x1 - x0);
    }
    return 1.0;
}

std::vector<double> random_scores(const core::OutcomeSet& set, std::uint64_t seed) {
    std::vector<double> scores;
    scores.reserve(set.size());
    for (std::size_t i = 0; i < set.size(); ++i) {
        // Keyed by position as well as id: ids need not be unique across files.
        scores.push_back(policy::unit_interval(policy::stable_hash(set.records[i].id + "#" + std::to_string(i), seed)));
    }
    return scores;
}

std::vector<double> confidence_scores(const core::OutcomeSet& set, std::size_t model) {
    std::vector<double> scores;
    scores.reserve(set.size());
    for (const auto& r : set.records) scores.push_back(r.models[model].confidence.value_or(-std::numeric_limits<double>::infinity()));
    return scores;
}

}  // namespace hiro::eval
