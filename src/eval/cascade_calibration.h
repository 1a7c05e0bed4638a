#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.h"
#include "eval/replay.h"

namespace hiro::eval {

// What a calibrated cascade must achieve. Accuracy targets minimise cost;
// cost and escalation targets maximise accuracy.
struct CalibrationTarget {
    enum class Kind { accuracy, near_strong, cost, escalation } kind = Kind::near_strong;
    double value = 0.01;  // accuracy >= value | >= last tier - value | USD per 1k queries <= value | escalated share <= value
    std::string text;     // as the user wrote it
};

// "accuracy>=0.8", "strong-0.01", "cost<=0.05" (USD per 1k queries) or
// "escalation<=0.3"; throws an invalid_input Error listing these forms.
CalibrationTarget parse_target(const std::string& text);

// How thresholds are searched (all by coordinate search over each tier's
// confidence quantiles, so any number of tiers scales linearly):
//  empirical  the train queries as they are (overfits small splits);
//  bootstrap  the target must hold in `level` of B bootstrap resamples of the
//             train queries (a safety margin sized by the split's own noise);
//  model      rational-tuning style: a probabilistic model of the tiers'
//             joint confidence (Gaussian copula over each tier's empirical
//             confidence distribution) with isotonic P(correct | confidence),
//             sampled densely, so thresholds do not chase single queries;
//  bagging    the empirical search on each of B bootstrap resamples, and the
//             median of their thresholds per tier (less variance, no margin).
enum class SearchMethod { empirical, bootstrap, model, bagging };
SearchMethod parse_search_method(std::string_view name);
std::string_view to_string(SearchMethod method);

struct CalibrationOptions {
    SearchMethod method = SearchMethod::bootstrap;
    double level = 0.9;            // bootstrap: share of resamples that must meet the target
    std::size_t resamples = 200;   // bootstrap
    std::size_t samples = 20000;   // model
    std::size_t candidates = 64;   // threshold quantiles per tier
    std::uint64_t seed = 0;
};

struct CascadeCalibration {
    std::vector<double> thresholds;  // one per tier but the last, on the raw confidence scale
    double accuracy = 0.0;           // on the train queries, as replayed
    double cost = 0.0;               // USD over the train queries
    bool target_met = false;         // on the train queries, by the search's own criterion
};

// Chooses a cascade's thresholds on `train` to meet `target`. `start_tier`
// (optional, per train row) is where a router makes each query start.
CascadeCalibration calibrate_cascade(const core::OutcomeSet& train, const std::vector<std::string>& chain,
                                     const CalibrationTarget& target, const CalibrationOptions& options,
                                     const std::vector<std::size_t>& start_tier = {});

// How precisely a file measures a replayed policy's accuracy gap to its last
// tier: the standard error of the per-query paired difference (answer
// correct - last tier correct). When it exceeds a strong-D target's D, the
// file cannot tell a cascade that meets the target from one that misses it.
double gap_standard_error(const ReplayResult& replayed, const core::OutcomeSet& set);

// Whether a result meets the target on a file (for the test split).
bool meets_target(const CalibrationTarget& target, double accuracy, double cost_per_1k, double escalation, double strong_accuracy);

}  // namespace hiro::eval
