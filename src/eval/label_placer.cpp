#include "eval/label_placer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace hiro::eval {
namespace {

// How far a label beside its anchor stands off it: clear of a marker's radius (5 px).
constexpr double beside = 7;
constexpr double ring_step = 14;
constexpr int angles_per_ring = 32;
// Rings searched past the first spot that only crosses a curve before settling for it.
constexpr int rings_to_find_a_clean_spot = 4;

double overlap(const Box& a, const Box& b) {
    const double w = std::min(a.right(), b.right()) - std::max(a.x, b.x), h = std::min(a.bottom(), b.bottom()) - std::max(a.y, b.y);
    return w > 0 && h > 0 ? w * h : 0.0;
}

// Candidates of ring 0: the box right beside the anchor, in order of preference.
std::vector<Box> beside_anchor(double x, double y, double w, double h) {
    return {{x + beside, y - h / 2, w, h},          {x - beside - w, y - h / 2, w, h},  // right, left
            {x - w / 2, y - beside - h, w, h},      {x - w / 2, y + beside, w, h},      // above, below
            {x + beside, y - beside - h, w, h},     {x + beside, y + beside, w, h},     // the corners
            {x - beside - w, y - beside - h, w, h}, {x - beside - w, y + beside, w, h}};
}

// Candidates of ring k >= 1: the box's centre pushed out along evenly spread
// directions, alternating around "to the right" so nearer-horizontal spots come first.
std::vector<Box> on_ring(double x, double y, double w, double h, int k) {
    const double r = beside + ring_step * k;
    std::vector<Box> boxes;
    for (int j = 0; j < angles_per_ring; ++j) {
        const int step = (j + 1) / 2 * (j % 2 == 0 ? -1 : 1);
        const double a = 2 * std::numbers::pi * step / angles_per_ring;
        const double cx = x + std::cos(a) * (r + w / 2), cy = y - std::sin(a) * (r + h / 2);
        boxes.push_back({cx - w / 2, cy - h / 2, w, h});
    }
    return boxes;
}

}  // namespace

// Liang-Barsky: clip the segment's parameter range to the box's four slabs.
bool Box::crosses(std::pair<double, double> a, std::pair<double, double> b) const {
    const double dx = b.first - a.first, dy = b.second - a.second;
    double t0 = 0, t1 = 1;
    const double p[] = {-dx, dx, -dy, dy};
    const double q[] = {a.first - x, right() - a.first, a.second - y, bottom() - a.second};
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0) {
            if (q[i] < 0) return false;
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0) t0 = std::max(t0, t);
        else t1 = std::min(t1, t);
        if (t0 > t1) return false;
    }
    return true;
}

bool LabelPlacer::fits(const Box& b) const {
    return b.inside(canvas_) && std::none_of(blocked_.begin(), blocked_.end(), [&](const Box& o) { return b.overlaps(o); });
}

bool LabelPlacer::crosses_curve(const Box& b) const {
    for (const auto& curve : curves_) {
        for (std::size_t i = 1; i < curve.size(); ++i) {
            if (b.crosses(curve[i - 1], curve[i])) return true;
        }
    }
    return false;
}

double LabelPlacer::clash_area(const Box& b) const {
    double area = b.w * b.h - overlap(b, canvas_);
    for (const auto& o : blocked_) area += overlap(b, o);
    return area;
}

PlacedLabel LabelPlacer::place(double x, double y, double w, double h) {
    const int last_ring = static_cast<int>(std::hypot(canvas_.w, canvas_.h) / ring_step) + 1;
    PlacedLabel chosen;
    int fallback_ring = -1;  // the first ring with a spot that fits but crosses a curve
    Box least_clash;
    double least = std::numeric_limits<double>::infinity();
    bool clean = false;
    for (int k = 0; k <= last_ring && !clean; ++k) {
        if (fallback_ring >= 0 && k > fallback_ring + rings_to_find_a_clean_spot) break;
        for (const Box& b : k == 0 ? beside_anchor(x, y, w, h) : on_ring(x, y, w, h, k)) {
            if (!fits(b)) {
                if (const double c = clash_area(b); c < least) least = c, least_clash = b;
                continue;
            }
            if (!crosses_curve(b)) {
                chosen = {b, k > 0, {}}, clean = true;
                break;
            }
            if (fallback_ring < 0) chosen = {b, k > 0, {}}, fallback_ring = k;
        }
    }
    // Nowhere fits (a canvas too crowded): the spot that clashes least.
    if (!clean && fallback_ring < 0) chosen = {least_clash, true, {}};
    chosen.leader_end = {std::clamp(x, chosen.box.x, chosen.box.right()), std::clamp(y, chosen.box.y, chosen.box.bottom())};
    blocked_.push_back(chosen.box);
    return chosen;
}

}  // namespace hiro::eval
