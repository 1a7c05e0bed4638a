#pragma once

#include <span>
#include <string>
#include <vector>

namespace hiro::eval {

struct CostAccuracy {
    double cost = 0.0;
    double accuracy = 0.0;
    std::string label;
};

// The points no other point beats on both cost and accuracy, cheapest first.
std::vector<CostAccuracy> pareto_front(std::span<const CostAccuracy> points);

// RouterBench's Average Improvement in Quality: the area under the
// non-decreasing convex hull of a router's (cost, accuracy) points over
// [cost_min, cost_max], divided by that range. Outside the points' own cost
// span the hull is held flat at its end values.
double aiq(std::span<const CostAccuracy> points, double cost_min, double cost_max);

}  // namespace hiro::eval
