// Human table and JSON for an EvalReport.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <ostream>

#include "eval/eval_report.h"

namespace hiro::eval {

void to_json(nlohmann::json& j, const CurvePoint& p) {
    j = {{"threshold", std::isfinite(p.threshold) ? nlohmann::json(p.threshold) : nlohmann::json(nullptr)},
         {"strong_share", p.strong_share},
         {"accuracy", p.accuracy},
         {"cost_usd", p.cost},
         {"latency_ms", p.latency_ms}};
}

void to_json(nlohmann::json& j, const ReplayResult& r) {
    j = {{"policy", r.policy},
         {"tiers", r.tiers},
         {"queries", r.queries},
         {"accuracy", r.accuracy},
         {"total_cost_usd", r.total_cost},
         {"cost_per_query_usd", r.cost_per_query},
         {"cost_vs_strongest", r.cost_vs_strongest},
         {"mean_latency_ms", r.has_latency ? nlohmann::json(r.mean_latency_ms) : nlohmann::json(nullptr)},
         {"escalation_rate", r.escalation_rate},
         {"reached", r.reached},
         {"answered", r.answered}};
    if (!r.thresholds_from.empty()) j["thresholds_from"] = r.thresholds_from;
}

void to_json(nlohmann::json& j, const CostAccuracy& p) { j = {{"cost_usd", p.cost}, {"accuracy", p.accuracy}, {"label", p.label}}; }

void to_json(nlohmann::json& j, const EvalReport& report) {
    j = {{"file", report.file}, {"queries", report.queries}, {"models", report.models}, {"policies", report.policies}};
    if (!report.confidence_signal.empty()) j["confidence_signal"] = report.confidence_signal;
    if (!report.thresholds_from.empty()) j["thresholds_from"] = report.thresholds_from;
    if (!report.verdict.empty()) j["verdict"] = report.verdict;
    j["warnings"] = report.warnings;
    if (report.pair) {
        const auto& p = *report.pair;
        nlohmann::json pair = {{"weak", p.weak},
                               {"strong", p.strong},
                               {"weak_accuracy", p.weak_accuracy},
                               {"strong_accuracy", p.strong_accuracy},
                               {"oracle_accuracy", p.oracle_accuracy},
                               {"random", {{"apgr_expected", p.random_apgr_expected},
                                           {"apgr_seeded_mean", p.random_apgr_seeded_mean},
                                           {"apgr_seeded_sd", p.random_apgr_seeded_sd},
                                           {"seeds", p.random_seeds},
                                           {"curve", p.random_curve}}}};
        if (p.random_aiq) pair["random"]["aiq"] = *p.random_aiq;
        if (p.has_confidence) {
            pair["cascade"] = {{"apgr", p.cascade_apgr}, {"cpt50", p.cascade_cpt50}, {"cpt80", p.cascade_cpt80}, {"curve", p.cascade_curve},
                               {"cpt80_threshold", p.cascade_cpt80_threshold}, {"thresholds_from", p.thresholds_from}};
            if (p.cascade_aiq) pair["cascade"]["aiq"] = *p.cascade_aiq;
        }
        j["pair"] = std::move(pair);
    }
    if (!report.chain_curve.empty()) {
        auto& curve = j["chain_curve"] = nlohmann::json::array();
        for (const auto& p : report.chain_curve) {
            curve.push_back({{"quantile", p.quantile}, {"thresholds", p.thresholds}, {"accuracy", p.accuracy},
                             {"cost_usd", p.cost}, {"latency_ms", p.latency_ms}});
        }
    }
    if (report.has_cost) j["pareto_front"] = report.pareto;
}

namespace {

constexpr std::size_t name_width = 58;

// A name longer than the column is wrapped at spaces (never cut): every line
// but the last stands alone, the last carries the figures.
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
    std::vector<std::string> lines{""};
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(pos, end - pos);
        if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
        lines.back() += (lines.back().empty() ? "" : " ") + word;
        pos = end + 1;
    }
    return lines;
}

// The label of where its thresholds come from wraps as one piece ('\x01' = a
// space that does not break).
std::string row_name(const ReplayResult& r) {
    if (r.thresholds_from.empty()) return r.policy;
    if (r.thresholds_from == "in-sample") return r.policy + " [in-sample\x01threshold]";
    return r.policy + " [threshold\x01" "fitted\x01" "on " + r.thresholds_from + "]";
}

void print_rows(std::ostream& out, const std::vector<ReplayResult>& rows, bool has_cost) {
    for (const auto& r : rows) {
        std::string reached;
        for (std::size_t i = 1; i < r.reached.size(); ++i) reached += fmt::format("{}{:.1f}%", i > 1 ? " " : "", 100 * r.reached[i]);
        auto lines = wrap(row_name(r), name_width - 2);
        for (auto& l : lines) std::replace(l.begin(), l.end(), '\x01', ' ');
        if ((lines.size() > 1 ? 2 : 0) + lines.back().size() > name_width) lines.emplace_back();  // figures on a line of their own
        for (std::size_t i = 0; i + 1 < lines.size(); ++i) fmt::print(out, "  {}\n", i == 0 ? lines[i] : "  " + lines[i]);
        fmt::print(out, "  {:<58} {:>8.4f} ", lines.size() > 1 ? "  " + lines.back() : lines.back(), r.accuracy);
        if (has_cost) {
            fmt::print(out, "{:>11.4f} {:>8.3f} ", 1000 * r.cost_per_query, r.cost_vs_strongest);
        } else {
            fmt::print(out, "{:>11} {:>8} ", "n/a", "n/a");
        }
        fmt::print(out, "{:>9}  {}\n", r.has_latency ? fmt::format("{:.1f}", r.mean_latency_ms) : std::string("n/a"),
                   reached.empty() ? "-" : reached);
    }
}

}  // namespace

void print_table(std::ostream& out, const EvalReport& report) {
    fmt::print(out, "{}: {} queries, {} models{}\n\n", report.file, report.queries, report.models.size(),
               report.confidence_signal.empty() ? "" : ", confidence = " + report.confidence_signal);
    fmt::print(out, "  {:<58} {:>8} {:>11} {:>8} {:>9}  {}\n", "policy", "accuracy", "$ / 1k q", "cost/top", "lat. ms",
               "escalated to tier 2..N");
    print_rows(out, report.models, report.has_cost);
    if (!report.policies.empty()) {
        fmt::print(out, "\n");
        print_rows(out, report.policies, report.has_cost);
    }
    if (!report.has_cost) fmt::print(out, "  (no costs in this file: give --prices FILE.yaml to price its tokens)\n");

    if (report.pair) {
        const auto& p = *report.pair;
        fmt::print(out, "\nweak {} -> strong {}: accuracy {:.3f} -> {:.3f}, oracle {:.3f}\n", p.weak, p.strong,
                   p.weak_accuracy, p.strong_accuracy, p.oracle_accuracy);
        fmt::print(out, "  {:<44} {:>7} {:>9} {:>9} {:>7}\n", "policy (RouteLLM metrics, over strong-call share)", "APGR",
                   "CPT(50%)", "CPT(80%)", "AIQ");
        auto aiq_text = [](const std::optional<double>& v) { return v ? fmt::format("{:.4f}", *v) : std::string("n/a"); };
        if (p.has_confidence) {
            fmt::print(out, "  {:<44} {:>7.3f} {:>9.3f} {:>9.3f} {:>7}\n", "cascade on the weak model's confidence",
                       p.cascade_apgr, p.cascade_cpt50, p.cascade_cpt80, aiq_text(p.cascade_aiq));
        } else {
            fmt::print(out, "  (no confidence for {}: no confidence cascade on this pair)\n", p.weak);
        }
        fmt::print(out, "  {:<44} {:>7.3f} {:>9.3f} {:>9.3f} {:>7}\n", "random router (expected)", p.random_apgr_expected,
                   0.5, 0.8, aiq_text(p.random_aiq));
        fmt::print(out, "  {:<44} {:>7.3f} {:>9} {:>9} {:>7}\n",
                   fmt::format("random router ({} seeded shuffles, sd {:.3f})", p.random_seeds, p.random_apgr_seeded_sd),
                   p.random_apgr_seeded_mean, "", "", "");
    }
    if (!report.verdict.empty()) fmt::print(out, "\nverdict: {}\n", report.verdict);
    for (const auto& w : report.warnings) fmt::print(out, "\nwarning: {}\n", w);
    if (!report.pareto.empty()) {
        fmt::print(out, "\naccuracy-cost Pareto front ({} points):\n", report.pareto.size());
        std::string last;
        for (const auto& pt : report.pareto) {
            if (pt.label == last) continue;  // one line per policy family
            last = pt.label;
            fmt::print(out, "  from ${:<10.4f} / 1k q  accuracy {:.4f}  {}\n", 1000 * pt.cost / static_cast<double>(report.queries),
                       pt.accuracy, pt.label);
        }
    }
}

}  // namespace hiro::eval
