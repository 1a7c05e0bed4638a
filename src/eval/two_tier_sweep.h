#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/outcome.h"

namespace hiro::eval {

// How a two-tier policy pays: a cascade always runs the weak model and adds the
// strong one on escalation; a router runs exactly one of them.
enum class Payment { cascade, router };

// One operating point of a two-tier policy.
struct CurvePoint {
    double threshold = 0.0;     // queries with score < threshold go to the strong model
    double strong_share = 0.0;  // share of queries that call the strong model
    double accuracy = 0.0;
    double cost = 0.0;          // total USD over the file
    double latency_ms = 0.0;    // mean per query
};

// Every threshold of a weak -> strong policy that escalates by a per-query
// score (lower = escalate first; for a cascade the weak model's confidence).
// Sorting once and keeping prefix sums makes each threshold O(log n), so a
// sweep of T thresholds costs O(n log n + T log n), not O(n T).
class TwoTierSweep {
public:
    TwoTierSweep(const core::OutcomeSet& set, std::size_t weak, std::size_t strong, std::span<const double> scores,
                 Payment payment);

    std::size_t size() const { return sorted_scores_.size(); }
    double weak_accuracy() const { return at_count(0).accuracy; }
    double strong_accuracy() const { return strong_correct_ / static_cast<double>(size()); }

    // Escalate the k lowest-scored queries (k in 0..n).
    CurvePoint at_count(std::size_t k) const;
    // Escalate every query with score < threshold.
    CurvePoint at_threshold(double threshold) const;
    std::vector<CurvePoint> at_thresholds(std::span<const double> thresholds) const;
    // `count` thresholds evenly spaced between the lowest and highest finite score.
    std::vector<double> even_thresholds(std::size_t count) const;

    // The points a threshold can reach: one per boundary between blocks of
    // equal scores (a threshold cannot split a tie). Between them the expected
    // curve under random tie-breaking is linear.
    std::vector<CurvePoint> tie_block_curve() const;

private:
    std::vector<double> sorted_scores_;
    std::vector<double> gain_prefix_;     // sum of (strong correct - weak correct) over the k lowest
    std::vector<double> cost_prefix_;     // sum of what escalating the k lowest adds to the cost
    std::vector<double> latency_prefix_;
    double weak_correct_ = 0.0;
    double strong_correct_ = 0.0;
    double base_cost_ = 0.0;              // cost with nothing escalated
    double base_latency_ = 0.0;
};

// Performance gap recovered at each point: (acc - weak) / (strong - weak).
double pgr(const CurvePoint& p, double weak_accuracy, double strong_accuracy);

// RouteLLM's average performance gap recovered: the area under PGR against
// the share of strong calls, with the curve linear between points.
double apgr(std::span<const CurvePoint> curve, double weak_accuracy, double strong_accuracy);

// RouteLLM's call-performance threshold: the smallest share of strong calls at
// which PGR reaches `target` (e.g. 0.5), interpolating linearly; 1 if never.
double cpt(std::span<const CurvePoint> curve, double weak_accuracy, double strong_accuracy, double target);

// Scores that order queries at random (seeded): a random router.
std::vector<double> random_scores(const core::OutcomeSet& set, std::uint64_t seed);

// The model's recorded confidence per query (-inf where missing).
std::vector<double> confidence_scores(const core::OutcomeSet& set, std::size_t model);

}  // namespace hiro::eval
