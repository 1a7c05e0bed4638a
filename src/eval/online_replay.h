#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/outcome.h"
#include "eval/hindsight_thresholds.h"
#include "policy/policy_spec.h"

namespace hiro::eval {

// What the learner is told about each query, as the live gateway would be:
//  full       every tier's correctness on every query (an upper bound);
//  realistic  labels only for escalated queries (the tiers that were asked
//             are judged), plus verification: an accepted answer is checked
//             with probability epsilon by asking the rest of the chain too,
//             whose cost is counted and reported.
enum class Feedback { full, realistic };
Feedback parse_feedback(const std::string& name);
std::string_view to_string(Feedback feedback);

// The same queries with `model` degraded: a seeded `share` of its correct
// answers turned wrong, confidences unchanged (a drift the confidence cannot see).
core::OutcomeSet degrade_model(const core::OutcomeSet& set, const std::string& model, double share, std::uint64_t seed);

// The fixed thresholds of least loss on `train` (e.g. the *_train file), to
// compare an online run with.
std::vector<double> fit_fixed_thresholds(const core::OutcomeSet& train, const std::vector<std::string>& chain, double lambda);

struct OnlineOptions {
    policy::PolicySpec policy;   // an adaptive_cascade spec: tiers, warm-start thresholds, params, learner
    Feedback feedback = Feedback::realistic;
    std::size_t orders = 20;     // seeded orders of the stream
    std::optional<std::vector<double>> fixed;  // thresholds to compare with, kept fixed (e.g. fitted on train)
};

// Trajectories are sampled after round(k n / 64) queries, k = 1..64, so
// n/8, n/4, n/2 and n are points 8, 16, 32 and 64.
inline constexpr std::size_t trajectory_points = 64;

// One seeded order of the stream, replayed through a fresh policy.
struct OnlineRun {
    std::vector<double> loss;                     // per query, in stream order: wrong + lambda x escalations
    std::vector<double> fixed_loss;               // per query, of OnlineOptions::fixed (empty without)
    std::vector<double> escalated;                // per query: 1 when it went past the first tier
    std::vector<double> cost;                     // per query, USD of the tiers asked to answer it
    double verified = 0.0;                        // queries verified
    double verification_cost = 0.0;               // USD spent on verification
    std::vector<std::vector<double>> thresholds;  // at each trajectory point, per tier
    // Regret against the best fixed thresholds in hindsight on the stream's
    // first t queries, at each trajectory point.
    std::vector<double> regret;
    std::vector<double> best_fixed_loss;          // summed, at each trajectory point
    FixedThresholds best_after_switch;            // drift: best fixed on the queries after the switch
    std::vector<double> best_after_switch_loss;   // per query after the switch, of those thresholds
};

struct OnlineReplay {
    std::vector<std::string> tiers;
    std::string learner;
    Feedback feedback = Feedback::realistic;
    double lambda = 0.1, epsilon = 0.1;
    std::size_t queries = 0;       // the whole stream
    std::size_t switch_at = 0;     // drift: the first query of the second part (0: no drift)
    std::vector<std::size_t> points;  // trajectory points (queries seen)
    FixedThresholds best_fixed;    // on the whole stream (the same in every order)
    std::optional<std::vector<double>> fixed;
    std::vector<OnlineRun> runs;   // one per order
};

// Streams `first` (then, for drift, `second`) in seeded orders through the
// adaptive cascade, feeding it exactly what `feedback` reveals, one query at
// a time, and measures it against fixed thresholds.
OnlineReplay replay_online(const core::OutcomeSet& first, const core::OutcomeSet* second, const OnlineOptions& options);

}  // namespace hiro::eval
