#pragma once

#include <utility>
#include <vector>

namespace hiro::eval {

// An axis-aligned rectangle in SVG pixels (y grows downwards).
struct Box {
    double x = 0, y = 0, w = 0, h = 0;  // top-left corner and size

    double right() const { return x + w; }
    double bottom() const { return y + h; }
    // Interiors intersect (boxes that only touch do not overlap).
    bool overlaps(const Box& o) const { return x < o.right() && o.x < right() && y < o.bottom() && o.y < bottom(); }
    bool inside(const Box& outer) const { return x >= outer.x && y >= outer.y && right() <= outer.right() && bottom() <= outer.bottom(); }
    bool crosses(std::pair<double, double> a, std::pair<double, double> b) const;  // the segment a-b passes through the box
};

// Where a label went. A label that could not sit right beside its anchor
// gets a leader line from the anchor to the nearest point of its box.
struct PlacedLabel {
    Box box;
    bool leader = false;
    std::pair<double, double> leader_end{};  // the point of `box` nearest the anchor
};

// Places chart labels one after the other so that each stays inside the
// canvas, off every box blocked so far (other labels, titles, tick labels,
// plotted markers) and, where it can, off the curves: first right beside its
// anchor (right, left, above, below, the corners), then on rings further and
// further out, where it gets a leader line. A spot that crosses a curve is
// kept only when no clean spot turns up within a few rings further out.
class LabelPlacer {
public:
    explicit LabelPlacer(Box canvas) : canvas_(canvas) {}

    void block(Box b) { blocked_.push_back(b); }
    void avoid_curve(std::vector<std::pair<double, double>> polyline) { curves_.push_back(std::move(polyline)); }

    // A w x h label for the point (x, y); its box is blocked from then on.
    PlacedLabel place(double x, double y, double w, double h);

private:
    bool fits(const Box& b) const;
    bool crosses_curve(const Box& b) const;
    double clash_area(const Box& b) const;  // overlap with blocked boxes plus the part outside the canvas

    Box canvas_;
    std::vector<Box> blocked_;
    std::vector<std::vector<std::pair<double, double>>> curves_;
};

}  // namespace hiro::eval
