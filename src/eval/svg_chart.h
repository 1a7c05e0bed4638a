#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hiro::eval {

// A small x-y chart written as standalone SVG. Every series is labelled where
// it is drawn (no legend to hunt for): a point beside itself, a line at its
// last point, each label placed by one LabelPlacer so that labels stay inside
// the canvas, off each other and off the markers. Lines get distinct dash
// patterns in the order they were added, each shown in a swatch before its
// label, and earlier lines are drawn wider, so a curve that runs under
// another still shows.
class SvgChart {
public:
    SvgChart(std::string title, std::string x_label, std::string y_label);

    void add_line(std::vector<std::pair<double, double>> points, std::string label, std::string color);
    void add_point(double x, double y, std::string label, std::string color);
    void add_note(std::string text);  // a line under the title

    std::string render(int width = 960, int height = 640) const;
    void write(const std::string& path) const;  // throws an io Error on failure

private:
    struct Series {
        std::vector<std::pair<double, double>> points;
        std::string label, color;
        bool marker_only = false;
    };
    std::string title_, x_label_, y_label_;
    std::vector<std::string> notes_;
    std::vector<Series> series_;
};

// "Nice" tick positions (1, 2, 5 x 10^k steps) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target_count);

}  // namespace hiro::eval
