#pragma once

#include <string>
#include <vector>

#include "core/outcome.h"
#include "policy/policy.h"

namespace hiro::eval {

// A policy replayed over an outcome file.
struct ReplayResult {
    std::string policy;                   // Policy::describe()
    std::vector<std::string> tiers;
    std::size_t queries = 0;
    double accuracy = 0.0;
    double total_cost = 0.0;              // USD; a cascade pays every tier it asked
    double cost_per_query = 0.0;
    double cost_vs_strongest = 0.0;       // total_cost / the most accurate model's total cost
    double mean_latency_ms = 0.0;         // tiers asked one after another
    bool has_latency = false;             // false: no tier it asked recorded a latency (mean_latency_ms means nothing)
    std::string thresholds_from;          // where its thresholds were picked: "in-sample", a training file, or "" (given)
    double escalation_rate = 0.0;         // share answered by a tier asked after an earlier answer was rejected
    std::vector<double> reached;          // per tier: share of queries that asked it
    std::vector<double> answered;         // per tier: share of queries it answered
    std::vector<std::size_t> chosen;      // per query: the tier (position) whose answer was kept
};

// The most accurate model of the file (ties: the costlier one), the yardstick
// for "cost relative to the strongest model".
std::size_t strongest_model(const core::OutcomeSet& set);

ReplayResult replay(const policy::Policy& policy, const core::OutcomeSet& set);

}  // namespace hiro::eval
