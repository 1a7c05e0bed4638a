#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eval/online_replay.h"
#include "eval/svg_chart.h"

namespace hiro::eval {

// An online replay's figures, each a mean over the seeded orders.
struct OnlineSummary {
    struct Checkpoint {
        std::size_t queries = 0;             // T
        double loss = 0.0;                   // online, per query over the first T
        double best_fixed = 0.0;             // best fixed thresholds in hindsight on those T, per query
        double regret_per_query = 0.0;       // R(T) / T
        double regret_sd = 0.0;              // of R(T) / T over orders
        std::vector<double> thresholds;      // the learner's point thresholds after T queries (median over orders)
    };
    std::vector<Checkpoint> checkpoints;     // T = n/8, n/4, n/2, n
    double loss = 0.0, best_fixed = 0.0;     // per query over the whole stream
    std::optional<double> fixed;             // per query, the given fixed thresholds
    double escalation = 0.0, cost_per_1k = 0.0;
    double verified_share = 0.0, verification_per_1k = 0.0;  // realistic feedback's checks, USD per 1k queries
    std::vector<double> window_escalation, window_cost_per_1k;  // per eighth of the stream: target tracking
    struct AfterSwitch {
        std::size_t queries = 0;
        double loss = 0.0, best_fixed = 0.0;  // per query after the switch; best fixed for the new regime
        std::optional<double> fixed;
        std::vector<double> best_thresholds;
        std::optional<std::size_t> within_10pct;  // queries after the switch until every later window is within 10%
        std::size_t window = 0;
    };
    std::optional<AfterSwitch> after_switch;
    std::vector<std::pair<double, double>> regret_curve;  // (t, R(t)/t), mean over orders
};

OnlineSummary summarize(const OnlineReplay& replay);

void print_online_table(std::ostream& out, const OnlineReplay& replay, const OnlineSummary& summary, const std::string& stream);
nlohmann::json online_json(const OnlineReplay& replay, const OnlineSummary& summary, const std::string& stream);
SvgChart online_plot(const OnlineReplay& replay, const OnlineSummary& summary, const std::string& stream);

}  // namespace hiro::eval
