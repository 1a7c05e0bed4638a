#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace hiro::eval {

// One query as a confidence cascade over a chain of 2 or 3 tiers sees it.
struct ChainRow {
    std::vector<double> confidence;  // per tier (the last tier's is unused)
    std::vector<bool> correct;       // per tier
    std::vector<double> cost;        // per tier, USD
};

// The online loss of answering a query: 1 for a wrong answer plus lambda per
// escalation.
double cascade_loss(const ChainRow& row, std::span<const double> thresholds, double lambda);

struct FixedThresholds {
    std::vector<double> thresholds;  // one per tier but the last; +inf = escalate everything
    double loss = 0.0;               // summed over the rows
};

// The fixed thresholds with the least summed cascade_loss over `rows`, exactly
// (every distinct confidence is a candidate, so no grid limits it): the
// comparator of online regret. Chains of 2 or 3 tiers; O(n log n).
FixedThresholds best_fixed_thresholds(std::span<const ChainRow* const> rows, double lambda);

}  // namespace hiro::eval
