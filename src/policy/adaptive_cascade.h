#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/policy.h"
#include "policy/policy_spec.h"
#include "policy/threshold_learner.h"

namespace hiro::policy {

// A confidence cascade whose thresholds learn from the queries it serves:
// one ThresholdLearner per tier but the last. It decides with what it has
// learned so far, and learns from one observation at a time, offline
// (`hiro eval --online`) or live. Its state serialises to JSON and back.
//
// Spec: tiers (cheapest first); thresholds (optional, one per tier but the
// last: a warm start, e.g. what `hiro calibrate` fitted on train); params
// lambda (loss of an escalation in wrong answers, default 0.1), epsilon (the
// share of accepted answers to verify with the next tier, default 0.1),
// resolution (G: grid and prior, default 64), memory (exp_weights: queries
// over which losses fade, default 500; 0 = never), and for the target
// controller escalation (share) or cost_per_1k (USD); model: {learner:
// exp_weights | lcb | target, state?}. Without model.learner the learner is
// `target` when a target is given, else `exp_weights`.
class AdaptiveCascade final : public Policy {
public:
    AdaptiveCascade(std::vector<std::string> tiers, std::vector<std::unique_ptr<ThresholdLearner>> learners, std::string learner,
                    double lambda, double epsilon);

    std::string describe() const override;
    Step next(const QueryView& query, const Decision& so_far) const override;

    // The chance that tier `position` escalates an answer of this confidence
    // (0 or 1: every learner decides deterministically, see docs/online.md).
    double escalation_probability(std::size_t position, double confidence) const;
    bool escalates(std::size_t position, double confidence) const;
    std::vector<double> thresholds() const;  // each learner's point threshold
    double threshold(std::size_t position) const;

    void observe(std::size_t position, const ThresholdObservation& observation);

    nlohmann::json state() const;
    void restore(const nlohmann::json& state);  // throws invalid_input when it does not fit

    const std::string& learner() const { return learner_; }
    double lambda() const { return lambda_; }
    double epsilon() const { return epsilon_; }

private:
    mutable std::shared_mutex mutex_;  // the gateway decides while feedback arrives
    std::vector<std::unique_ptr<ThresholdLearner>> learners_;
    std::string learner_;
    double lambda_, epsilon_;
};

// The adaptive cascade a spec describes, with its own type (the online
// replay feeds it observations); the registry's factory returns the same.
std::unique_ptr<AdaptiveCascade> build_adaptive_cascade(const PolicySpec& spec);

}  // namespace hiro::policy
