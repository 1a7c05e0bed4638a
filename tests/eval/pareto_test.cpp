#include "eval/pareto.h"

#include <gtest/gtest.h>

namespace hiro::eval {
namespace {

TEST(Pareto, KeepsOnlyUndominatedPoints) {
    std::vector<CostAccuracy> points{{1, 0.5, "a"}, {2, 0.4, "dominated"}, {3, 0.8, "b"}, {3, 0.7, "same cost, worse"}, {4, 0.8, "no gain"}};
    const auto front = pareto_front(points);
    ASSERT_EQ(front.size(), 2u);
    EXPECT_EQ(front[0].label, "a");
    EXPECT_EQ(front[1].label, "b");
}

TEST(Aiq, IsTheNormalisedAreaUnderTheConvexHull) {
    // Two models at (0, 0.5) and (1, 1.0): the hull is the line between them.
    std::vector<CostAccuracy> line{{0, 0.5, ""}, {1, 1.0, ""}};
    EXPECT_DOUBLE_EQ(aiq(line, 0, 1), 0.75);
    // A point under that line does not count; one above lifts the hull.
    line.push_back({0.5, 0.6, ""});
    EXPECT_DOUBLE_EQ(aiq(line, 0, 1), 0.75);
    line.push_back({0.5, 1.0, ""});
    EXPECT_DOUBLE_EQ(aiq(line, 0, 1), 0.5 * (0.5 + 1.0) / 2 + 0.5 * 1.0);
    // Past its costliest point the hull stays flat.
    std::vector<CostAccuracy> early{{0, 0.5, ""}, {0.5, 1.0, ""}};
    EXPECT_DOUBLE_EQ(aiq(early, 0, 1), 0.5 * 0.75 + 0.5 * 1.0);
}

}  // namespace
}  // namespace hiro::eval
