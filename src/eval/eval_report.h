#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/outcome.h"
#include "eval/pareto.h"
#include "eval/replay.h"
#include "eval/two_tier_sweep.h"
#include "policy/policy_spec.h"

namespace hiro::eval {

struct EvalOptions {
    std::optional<std::string> weak;      // default: the cheapest model (least accurate without costs)
    std::optional<std::string> strong;    // default: the most accurate model
    std::vector<std::string> chain;       // N-tier cascade; default: every model with confidence, cheapest first
    std::vector<double> thresholds;       // for the chain; without them only its curve is drawn
    std::vector<policy::PolicySpec> policies;  // more policies to replay (--policy)
    std::size_t random_seeds = 20;        // shuffles for the random router's seeded APGR
    std::size_t chain_sweep_points = 21;  // shared confidence quantiles the chain curve is drawn at
    // Pick the pair cascade's threshold on this file (--train) instead of on
    // the file being reported (which would be in-sample).
    const core::OutcomeSet* train = nullptr;
};

// The weak -> strong pair: RouteLLM's metrics for the confidence cascade and
// the random router, and RouterBench's AIQ.
struct PairReport {
    std::string weak, strong;
    double weak_accuracy = 0.0, strong_accuracy = 0.0, oracle_accuracy = 0.0;
    bool has_confidence = false;  // false: no cascade on this pair, only routers
    double cascade_apgr = 0.0, cascade_cpt50 = 0.0, cascade_cpt80 = 0.0;
    double cascade_cpt80_threshold = 0.0;  // the threshold at which PGR first reaches 80% (on the train file when given)
    std::string thresholds_from = "in-sample";  // or the --train file the threshold was picked on
    double random_apgr_expected = 0.5;
    std::size_t random_seeds = 0;
    double random_apgr_seeded_mean = 0.0, random_apgr_seeded_sd = 0.0;
    std::vector<CurvePoint> cascade_curve;  // tie-block points
    std::vector<CurvePoint> random_curve;   // expectation: a straight line
    std::optional<double> cascade_aiq, random_aiq;  // need costs
};

struct ChainCurvePoint {
    double quantile = 0.0;
    std::vector<double> thresholds;
    double accuracy = 0.0, cost = 0.0, latency_ms = 0.0;
};

struct EvalReport {
    std::string file;
    std::string confidence_signal;
    std::size_t queries = 0;
    bool has_cost = false;
    std::vector<ReplayResult> models;    // each model alone
    std::optional<PairReport> pair;
    std::vector<ReplayResult> policies;  // oracle, random router, chain cascade, consistency, --policy
    std::vector<ChainCurvePoint> chain_curve;
    std::vector<CostAccuracy> pareto;
    std::string thresholds_from;        // the pair cascade's: "in-sample" or the --train file; "" without a cascade row
    std::string verdict;                // one line: does the cascade pay off on this file?
    std::vector<std::string> warnings;  // e.g. a router replayed on the queries it was trained on
};

EvalReport evaluate(const core::OutcomeSet& set, const EvalOptions& options);

void to_json(nlohmann::json& j, const EvalReport& report);
void print_table(std::ostream& out, const EvalReport& report);

}  // namespace hiro::eval
