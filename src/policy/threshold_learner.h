#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hiro::policy {

// What one query told the learner of one cascade tier's threshold. Every
// query that reached the tier is observed (the target controller needs them
// all); the loss learners learn only from the labelled ones.
struct ThresholdObservation {
    double confidence = 0.0;  // the tier's confidence on the query (log-probability scale)
    bool escalated = false;   // the cascade passed the query on to the next tier
    double cost_usd = 0.0;    // what the query cost in all (every tier asked for its answer)
    // Known when the next tier's answer was seen (the query was escalated or
    // verified): the loss of accepting the tier's answer (1 when it was wrong)
    // and of escalating (lambda plus what the rest of the chain then lost).
    struct Losses {
        double accept = 0.0;
        double escalate = 0.0;
    };
    std::optional<Losses> losses;
    // The chance, when the cascade decided, that this query would be labelled
    // (1 under full feedback; P(escalate) + (1 - P(escalate)) x epsilon with
    // verification). Importance weights divide by it, so estimates stay unbiased.
    double label_probability = 1.0;
};

// The LCB learner's grid of thresholds on the confidence (log-probability)
// scale: accept-everything (-inf), log(k / G) for k = 1..G (evenly spaced in
// probability, 1/G apart), escalate-everything (+inf), plus the warm-start
// threshold when there is one so that "keep it fixed" is itself a candidate.
std::vector<double> threshold_grid(std::size_t resolution, std::optional<double> warm_start);

// Learns one cascade tier's confidence threshold from a stream of queries.
// Decides by the probability of escalating a query with a given confidence:
// 0 or 1, as every learner here decides deterministically (exp_weights by
// the weighted majority of its thresholds), so the label probability of a
// query is 1 when escalated and epsilon when not.
class ThresholdLearner {
public:
    virtual ~ThresholdLearner() = default;
    virtual double escalation_probability(double confidence) const = 0;
    virtual double threshold() const = 0;  // a point summary (the median of a distribution)
    virtual void observe(const ThresholdObservation& observation) = 0;
    virtual nlohmann::json state() const = 0;          // everything learned, for persistence
    virtual void restore(const nlohmann::json& state) = 0;  // throws invalid_input when it does not fit
};

// How a tier's threshold is learned (see docs/online.md for the sources of
// each rate and grid).
struct LearnerOptions {
    std::string kind = "exp_weights";  // exp_weights | lcb | target
    std::size_t tier_index = 0;        // 0 = the first tier
    std::size_t resolution = 64;       // G of threshold_grid
    std::optional<double> warm_start;  // a threshold fitted elsewhere (hiro calibrate on train)
    double memory = 500.0;             // exp_weights: losses fade by 1 - 1/memory per query (0: never), to follow drift
    // target: hold this share of escalations (each tier, of the queries that
    // reach it) or this cost in USD per 1,000 queries (first tier only).
    std::optional<double> escalation_share;
    std::optional<double> cost_per_1k;
};

std::unique_ptr<ThresholdLearner> make_exp_weights_learner(const LearnerOptions& options);
std::unique_ptr<ThresholdLearner> make_lcb_learner(const LearnerOptions& options);
std::unique_ptr<ThresholdLearner> make_target_controller(const LearnerOptions& options);

// By options.kind; throws invalid_input for an unknown kind.
std::unique_ptr<ThresholdLearner> make_threshold_learner(const LearnerOptions& options);

}  // namespace hiro::policy
