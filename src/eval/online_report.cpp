#include "eval/online_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ostream>

#include "eval/cross_validation.h"

namespace hiro::eval {
namespace {

double mean_of(const std::vector<double>& v, std::size_t from, std::size_t to) {
    return to > from ? std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(to), 0.0) /
                           static_cast<double>(to - from)
                     : 0.0;
}

// Per query, the mean over orders of a per-query series.
std::vector<double> mean_series(const OnlineReplay& replay, std::vector<double> OnlineRun::*series) {
    std::vector<double> out((replay.runs.front().*series).size(), 0.0);
    for (const auto& run : replay.runs) {
        for (std::size_t i = 0; i < out.size(); ++i) out[i] += (run.*series)[i] / static_cast<double>(replay.runs.size());
    }
    return out;
}

// Per tier, the median over orders of the thresholds at trajectory point
// `at` (a mean would be +inf as soon as one order escalates everything).
std::vector<double> median_thresholds(const OnlineReplay& replay, std::size_t at) {
    std::vector<double> out;
    for (std::size_t i = 0; i + 1 < replay.tiers.size(); ++i) {
        std::vector<double> values;
        for (const auto& run : replay.runs) values.push_back(run.thresholds[at][i]);
        std::sort(values.begin(), values.end());
        const std::size_t m = values.size() / 2;
        out.push_back(values.size() % 2 ? values[m] : std::isinf(values[m - 1]) || std::isinf(values[m]) ? values[m] : 0.5 * (values[m - 1] + values[m]));
    }
    return out;
}

std::string threshold_text(double t) {
    if (std::isinf(t)) return t < 0 ? "accept all" : "escalate all";
    return fmt::format("{:.3f}", t);
}

std::string thresholds_text(const std::vector<double>& ts) {
    std::string out;
    for (double t : ts) out += (out.empty() ? "" : ", ") + threshold_text(t);
    return out;
}

}  // namespace

OnlineSummary summarize(const OnlineReplay& replay) {
    OnlineSummary s;
    const auto orders = static_cast<double>(replay.runs.size());
    const std::size_t n = replay.queries;
    for (std::size_t k : {8u, 16u, 32u, 64u}) {
        const auto target = static_cast<std::size_t>(std::llround(static_cast<double>(k * n) / static_cast<double>(trajectory_points)));
        const auto at = static_cast<std::size_t>(std::find(replay.points.begin(), replay.points.end(), target) - replay.points.begin());
        if (at == replay.points.size()) continue;
        OnlineSummary::Checkpoint c;
        c.queries = target;
        std::vector<double> per_order;
        c.thresholds = median_thresholds(replay, at);
        for (const auto& run : replay.runs) {
            const double t = static_cast<double>(target);
            c.loss += mean_of(run.loss, 0, target) / orders;
            c.best_fixed += run.best_fixed_loss[at] / t / orders;
            per_order.push_back(run.regret[at] / t);
        }
        const Spread spread = spread_of(per_order);
        c.regret_per_query = spread.mean;
        c.regret_sd = spread.sd;
        s.checkpoints.push_back(c);
    }
    for (std::size_t p = 0; p < replay.points.size(); ++p) {
        double r = 0.0;
        for (const auto& run : replay.runs) r += run.regret[p] / static_cast<double>(replay.points[p]) / orders;
        s.regret_curve.emplace_back(static_cast<double>(replay.points[p]), r);
    }
    const auto loss = mean_series(replay, &OnlineRun::loss);
    const auto escalated = mean_series(replay, &OnlineRun::escalated);
    const auto cost = mean_series(replay, &OnlineRun::cost);
    s.loss = mean_of(loss, 0, n);
    s.best_fixed = replay.best_fixed.loss / static_cast<double>(n);
    s.escalation = mean_of(escalated, 0, n);
    s.cost_per_1k = 1000.0 * mean_of(cost, 0, n);
    for (const auto& run : replay.runs) {
        s.verified_share += run.verified / static_cast<double>(n) / orders;
        s.verification_per_1k += 1000.0 * run.verification_cost / static_cast<double>(n) / orders;
    }
    for (std::size_t w = 0; w < 8; ++w) {
        s.window_escalation.push_back(mean_of(escalated, w * n / 8, (w + 1) * n / 8));
        s.window_cost_per_1k.push_back(1000.0 * mean_of(cost, w * n / 8, (w + 1) * n / 8));
    }
    std::vector<double> fixed;
    if (replay.fixed) {
        fixed = mean_series(replay, &OnlineRun::fixed_loss);
        s.fixed = mean_of(fixed, 0, n);
    }
    if (replay.switch_at > 0) {
        OnlineSummary::AfterSwitch a;
        const std::size_t from = replay.switch_at;
        a.queries = n - from;
        a.loss = mean_of(loss, from, n);
        const auto best = mean_series(replay, &OnlineRun::best_after_switch_loss);
        a.best_fixed = mean_of(best, 0, best.size());
        a.best_thresholds = replay.runs.front().best_after_switch.thresholds;
        if (replay.fixed) a.fixed = mean_of(fixed, from, n);
        // The first k after which every window of n/8 queries is within 10%.
        a.window = std::max<std::size_t>(1, a.queries / 8);
        for (std::size_t k = a.queries - a.window + 1; k-- > 0;) {
            if (mean_of(loss, from + k, from + k + a.window) > 1.1 * mean_of(best, k, k + a.window)) break;
            a.within_10pct = k;
        }
        s.after_switch = a;
    }
    return s;
}

void print_online_table(std::ostream& out, const OnlineReplay& replay, const OnlineSummary& s, const std::string& stream) {
    out << fmt::format("online {} cascade {} on {}\n", replay.learner, fmt::format("{}", fmt::join(replay.tiers, " -> ")), stream);
    out << fmt::format("  {} queries, {} seeded orders; loss = wrong answer + {} x escalation; feedback: {}{}\n", replay.queries,
                       replay.runs.size(), replay.lambda, to_string(replay.feedback),
                       replay.feedback == Feedback::realistic ? fmt::format(" (labels for escalated queries, verification epsilon {})", replay.epsilon) : "");
    out << fmt::format("  {:>7} {:>10} {:>12} {:>10} {:>9}   {}\n", "T", "loss/T", "best fixed/T", "R(T)/T", "sd", "thresholds after T (median over orders)");
    for (const auto& c : s.checkpoints) {
        out << fmt::format("  {:>7} {:>10.4f} {:>12.4f} {:>10.4f} {:>9.4f}   {}\n", c.queries, c.loss, c.best_fixed, c.regret_per_query, c.regret_sd,
                           thresholds_text(c.thresholds));
    }
    out << fmt::format("  whole stream: online {:.4f} per query, best fixed thresholds in hindsight ({}) {:.4f}: {:+.1f}%\n", s.loss,
                       thresholds_text(replay.best_fixed.thresholds), s.best_fixed, 100.0 * (s.loss / s.best_fixed - 1.0));
    if (s.fixed) {
        out << fmt::format("  fixed thresholds ({}) {:.4f}: online is {:+.1f}%\n", thresholds_text(*replay.fixed), *s.fixed, 100.0 * (s.loss / *s.fixed - 1.0));
    }
    // Files without costs (hiro hi's) get no USD columns.
    const bool costs = s.cost_per_1k > 0.0;
    out << fmt::format("  escalated {:.1f}%", 100.0 * s.escalation) << (costs ? fmt::format(", {:.4f} USD per 1k queries", s.cost_per_1k) : "");
    if (replay.feedback == Feedback::realistic) {
        out << fmt::format("; verified {:.1f}% of queries", 100.0 * s.verified_share)
            << (costs ? fmt::format(", +{:.4f} USD per 1k ({:.1f}% on top)", s.verification_per_1k, 100.0 * s.verification_per_1k / s.cost_per_1k) : "");
    }
    out << "\n  per eighth of the stream: escalated";
    for (double e : s.window_escalation) out << fmt::format(" {:.3f}", e);
    if (costs) {
        out << "; USD per 1k";
        for (double c : s.window_cost_per_1k) out << fmt::format(" {:.4f}", c);
    }
    out << "\n";
    if (const auto& a = s.after_switch) {
        out << fmt::format("  after the switch ({} queries): online {:.4f}, best fixed for the new regime ({}) {:.4f}: {:+.1f}%\n", a->queries, a->loss,
                           thresholds_text(a->best_thresholds), a->best_fixed, 100.0 * (a->loss / a->best_fixed - 1.0));
        if (a->fixed) out << fmt::format("    fixed thresholds {:.4f}: {:+.1f}% over the new regime's best\n", *a->fixed, 100.0 * (*a->fixed / a->best_fixed - 1.0));
        out << (a->within_10pct ? fmt::format("    within 10% of it (every later window of {} queries) {} queries after the switch\n", a->window, *a->within_10pct)
                                : fmt::format("    never within 10% of it over a window of {} queries\n", a->window));
    }
}

nlohmann::json online_json(const OnlineReplay& replay, const OnlineSummary& s, const std::string& stream) {
    nlohmann::json j{{"stream", stream}, {"tiers", replay.tiers}, {"learner", replay.learner}, {"feedback", to_string(replay.feedback)},
                     {"lambda", replay.lambda}, {"epsilon", replay.epsilon}, {"queries", replay.queries}, {"orders", replay.runs.size()},
                     {"loss", s.loss}, {"best_fixed", {{"loss", s.best_fixed}, {"thresholds", replay.best_fixed.thresholds}}},
                     {"escalation", s.escalation}, {"cost_per_1k_usd", s.cost_per_1k}, {"verified_share", s.verified_share},
                     {"verification_per_1k_usd", s.verification_per_1k}, {"window_escalation", s.window_escalation},
                     {"window_cost_per_1k_usd", s.window_cost_per_1k}};
    for (const auto& c : s.checkpoints) {
        j["checkpoints"].push_back({{"queries", c.queries}, {"loss", c.loss}, {"best_fixed", c.best_fixed}, {"regret_per_query", c.regret_per_query},
                                    {"regret_per_query_sd", c.regret_sd}, {"thresholds", c.thresholds}});
    }
    if (s.fixed) j["fixed"] = {{"thresholds", *replay.fixed}, {"loss", *s.fixed}};
    if (const auto& a = s.after_switch) {
        j["after_switch"] = {{"queries", a->queries}, {"loss", a->loss}, {"best_fixed", {{"loss", a->best_fixed}, {"thresholds", a->best_thresholds}}},
                             {"within_10pct_after", a->within_10pct ? nlohmann::json(*a->within_10pct) : nlohmann::json()}, {"window", a->window}};
        if (a->fixed) j["after_switch"]["fixed_loss"] = *a->fixed;
    }
    nlohmann::json trajectory = nlohmann::json::array();
    for (std::size_t p = 0; p < replay.points.size(); ++p) {
        trajectory.push_back({{"queries", replay.points[p]}, {"regret_per_query", s.regret_curve[p].second}, {"thresholds", median_thresholds(replay, p)}});
    }
    j["trajectory"] = trajectory;
    return j;
}

namespace {

// Mean over orders of the per-query `losses` in consecutive full windows of `width` queries, from query `from`.
std::vector<std::pair<double, double>> window_means(const OnlineReplay& replay, const std::vector<double> OnlineRun::*losses, std::size_t from,
                                                    std::size_t width) {
    std::vector<std::pair<double, double>> curve;
    for (std::size_t start = 0;; start += width) {
        double sum = 0.0;
        std::size_t count = 0;
        for (const auto& run : replay.runs) {
            const auto& l = run.*losses;
            for (std::size_t i = start; i < std::min(start + width, l.size()); ++i, ++count) sum += l[i];
        }
        if (count < width * replay.runs.size()) break;  // a last, partial window would be noise
        curve.emplace_back(static_cast<double>(from + start + width), sum / static_cast<double>(count));
    }
    return curve;
}

}  // namespace

SvgChart online_plot(const OnlineReplay& replay, const OnlineSummary& s, const std::string& stream) {
    const std::string setting = fmt::format("{}: feedback {}, lambda {}, mean of {} seeded orders", fmt::join(replay.tiers, " -> "),
                                            to_string(replay.feedback), replay.lambda, replay.runs.size());
    if (replay.switch_at == 0) {
        SvgChart chart(fmt::format("Online {} cascade: regret per query", replay.learner), "queries seen (t)",
                       "R(t)/t vs best fixed thresholds in hindsight");
        chart.add_note(stream);
        chart.add_note(setting);
        chart.add_line(s.regret_curve, fmt::format("{} ({})", replay.learner, to_string(replay.feedback)), "#d62728");
        chart.add_line({{0.0, 0.0}, {static_cast<double>(replay.queries), 0.0}}, "no regret", "#999999");
        return chart;
    }
    // Drift: how fast the loss recovers, next to thresholds that cannot move.
    const std::size_t width = std::max<std::size_t>(1, replay.queries / trajectory_points);
    SvgChart chart(fmt::format("Online {} cascade under drift: loss per query", replay.learner), "queries seen (t)",
                   fmt::format("mean loss over windows of {} queries", width));
    chart.add_note(stream);
    chart.add_note(setting + fmt::format("; drift after query {}", replay.switch_at));
    chart.add_line(window_means(replay, &OnlineRun::loss, 0, width), fmt::format("online {} ({})", replay.learner, to_string(replay.feedback)),
                   "#d62728");
    if (replay.fixed) chart.add_line(window_means(replay, &OnlineRun::fixed_loss, 0, width), "fixed thresholds " + thresholds_text(*replay.fixed), "#1f77b4");
    chart.add_line(window_means(replay, &OnlineRun::best_after_switch_loss, replay.switch_at, width),
                   "best fixed for the new regime (hindsight) " + thresholds_text(replay.runs.front().best_after_switch.thresholds), "#2ca02c");
    return chart;
}

}  // namespace hiro::eval
