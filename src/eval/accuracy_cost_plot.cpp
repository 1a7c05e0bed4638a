#include "eval/accuracy_cost_plot.h"

#include <fmt/format.h>

#include <filesystem>

namespace hiro::eval {

SvgChart accuracy_cost_plot(const EvalReport& report) {
    const bool by_cost = report.has_cost;
    const double per_1k = 1000.0 / static_cast<double>(report.queries);
    SvgChart chart(fmt::format("Accuracy vs {} — {}", by_cost ? "cost" : "strong-model calls",
                               std::filesystem::path(report.file).filename().string()),
                   by_cost ? "cost (USD per 1,000 queries)" : "share of queries sent to the strong model", "accuracy");
    chart.add_note(fmt::format("{} queries; each line is labelled at its costliest end", report.queries));

    auto x_of = [&](double cost, double strong_share) { return by_cost ? cost * per_1k : strong_share; };
    if (report.pair) {
        const auto& p = *report.pair;
        // The cascade first: it gets the solid line, the random router a dashed one.
        std::vector<std::pair<double, double>> random, cascade;
        if (p.has_confidence) {
            for (const auto& pt : p.cascade_curve) cascade.emplace_back(x_of(pt.cost, pt.strong_share), pt.accuracy);
            chart.add_line(std::move(cascade), fmt::format("cascade (APGR {:.3f})", p.cascade_apgr), "#d62728");
        }
        for (const auto& pt : p.random_curve) random.emplace_back(x_of(pt.cost, pt.strong_share), pt.accuracy);
        chart.add_line(std::move(random), "random router", "#999999");
    }
    if (by_cost && !report.chain_curve.empty()) {
        std::vector<std::pair<double, double>> chain;
        for (const auto& pt : report.chain_curve) chain.emplace_back(pt.cost * per_1k, pt.accuracy);
        chart.add_line(std::move(chain), fmt::format("chain cascade ({} tiers)", report.chain_curve[0].thresholds.size() + 1), "#9467bd");
    }
    if (by_cost) {
        for (const auto& m : report.models) chart.add_point(m.total_cost * per_1k, m.accuracy, m.policy, "#1f77b4");
    } else if (report.pair) {
        chart.add_point(0.0, report.pair->weak_accuracy, report.pair->weak, "#1f77b4");
        chart.add_point(1.0, report.pair->strong_accuracy, report.pair->strong, "#1f77b4");
    }
    for (const auto& r : report.policies) {
        if (r.policy == "oracle") {
            const double share = r.answered.size() > 1 ? r.answered.back() : 0.0;
            chart.add_point(x_of(r.total_cost, share), r.accuracy, "oracle (upper bound)", "#2ca02c");
        }
    }
    return chart;
}

}  // namespace hiro::eval
