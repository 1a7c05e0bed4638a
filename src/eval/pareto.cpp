#include "eval/pareto.h"

#include <algorithm>

namespace hiro::eval {

std::vector<CostAccuracy> pareto_front(std::span<const CostAccuracy> points) {
    std::vector<CostAccuracy> sorted(points.begin(), points.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.cost != b.cost ? a.cost < b.cost : a.accuracy > b.accuracy;
    });
    std::vector<CostAccuracy> front;
    for (const auto& p : sorted) {
        if (front.empty() || p.accuracy > front.back().accuracy) front.push_back(p);
    }
    return front;
}

double aiq(std::span<const CostAccuracy> points, double cost_min, double cost_max) {
    if (points.empty() || !(cost_max > cost_min)) return 0.0;
    // Upper convex hull of the Pareto front (monotone chain), which is then
    // non-decreasing by construction.
    std::vector<CostAccuracy> front = pareto_front(points);
    std::vector<CostAccuracy> hull;
    for (const auto& p : front) {
        while (hull.size() >= 2) {
            const auto& a = hull[hull.size() - 2];
            const auto& b = hull.back();
            const double cross = (b.cost - a.cost) * (p.accuracy - a.accuracy) - (b.accuracy - a.accuracy) * (p.cost - a.cost);
            if (cross < 0) break;  // b lies above the chord a-p: keep it
            hull.pop_back();
        }
        hull.push_back(p);
    }
    auto value_at = [&](double c) {
        if (c <= hull.front().cost) return hull.front().accuracy;
        if (c >= hull.back().cost) return hull.back().accuracy;
        auto it = std::lower_bound(hull.begin(), hull.end(), c, [](const auto& p, double v) { return p.cost < v; });
        const auto& b = *it;
        const auto& a = *(it - 1);
        return a.accuracy + (b.accuracy - a.accuracy) * (c - a.cost) / (b.cost - a.cost);
    };
    // Integrate the piecewise-linear hull exactly between its knots.
    std::vector<double> knots{cost_min};
    for (const auto& p : hull) {
        if (p.cost > cost_min && p.cost < cost_max) knots.push_back(p.cost);
    }
    knots.push_back(cost_max);
    double area = 0.0;
    for (std::size_t i = 1; i < knots.size(); ++i) {
        area += (knots[i] - knots[i - 1]) * (value_at(knots[i]) + value_at(knots[i - 1])) / 2;
    }
    return area / (cost_max - cost_min);
}

}  // namespace hiro::eval
