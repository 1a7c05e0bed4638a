#include "eval/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "eval/label_placer.h"
#include "eval/text_width.h"

namespace hiro::eval {
namespace {

constexpr double font_size = 13;  // ticks, notes, axis titles and labels (the svg's font-size)
constexpr double title_size = 17;
constexpr double marker_radius = 5;
constexpr double canvas_margin = 2;   // labels keep this far from the canvas edge
constexpr double label_padding = 1;   // around a label's text inside its placed box
constexpr double swatch_width = 24;   // a line's stroke sample before its label
constexpr double swatch_gap = 4;

// One dash pattern per line, in the order lines were added ("" = solid), and a
// width that shrinks with it: a curve drawn under a later one shows at its edges.
constexpr const char* dash_patterns[] = {"", "9 5", "2 4", "12 4 2 4", "5 3", "1 3"};

std::string stroke_attributes(std::size_t line) {
    const char* dash = dash_patterns[line % std::size(dash_patterns)];
    const double width = std::max(1.5, 3.5 - 0.5 * static_cast<double>(line));
    return fmt::format(" stroke-width=\"{}\"{}", width, *dash ? fmt::format(" stroke-dasharray=\"{}\"", dash) : std::string());
}

enum class Anchor { start, middle, end };

std::string anchor_attribute(Anchor a) {
    return a == Anchor::middle ? " text-anchor=\"middle\"" : a == Anchor::end ? " text-anchor=\"end\"" : "";
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string tick_text(double v, double step) {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target_count) {
    if (!(hi > lo)) hi = lo + 1.0;
    const double raw = (hi - lo) / std::max(1, target_count);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * mag >= raw) {
            step = m * mag;
            break;
        }
    }
    std::vector<double> ticks;
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    return ticks;
}

SvgChart::SvgChart(std::string title, std::string x_label, std::string y_label)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

void SvgChart::add_line(std::vector<std::pair<double, double>> points, std::string label, std::string color) {
    if (!points.empty()) series_.push_back({std::move(points), std::move(label), std::move(color), false});
}

void SvgChart::add_point(double x, double y, std::string label, std::string color) {
    series_.push_back({{{x, y}}, std::move(label), std::move(color), true});
}

void SvgChart::add_note(std::string text) { notes_.push_back(std::move(text)); }

std::string SvgChart::render(int width, int height) const {
    // The right margin is room for the labels of lines that end at the right edge.
    const double left = 80, right = 260, top = 60 + 18.0 * static_cast<double>(notes_.size()), bottom = 70;
    double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
    for (const auto& s : series_) {
        for (auto [x, y] : s.points) {
            x_lo = std::min(x_lo, x);
            x_hi = std::max(x_hi, x);
            y_lo = std::min(y_lo, y);
            y_hi = std::max(y_hi, y);
        }
    }
    if (series_.empty()) x_lo = y_lo = 0, x_hi = y_hi = 1;
    const double x_pad = (x_hi - x_lo) * 0.04 + 1e-12, y_pad = (y_hi - y_lo) * 0.06 + 1e-9;
    x_lo -= x_pad, x_hi += x_pad, y_lo -= y_pad, y_hi += y_pad;
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    auto sx = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * plot_w; };
    auto sy = [&](double y) { return top + (1 - (y - y_lo) / (y_hi - y_lo)) * plot_h; };

    LabelPlacer placer({canvas_margin, canvas_margin, width - 2 * canvas_margin, height - 2 * canvas_margin});
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"{2}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        width, height, font_size);
    // Fixed text is written first and blocked, so no label lands on it.
    auto text = [&](double x, double baseline, Anchor anchor, const std::string& s, const std::string& attributes, double size = font_size,
                    bool bold = false) {
        const double w = text_width(s, size, bold);
        const double x0 = anchor == Anchor::middle ? x - w / 2 : anchor == Anchor::end ? x - w : x;
        placer.block({x0, baseline - text_ascent * size, w, (text_ascent + text_descent) * size});
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\"{}{}>{}</text>\n", x, baseline, anchor_attribute(anchor), attributes, escape(s));
    };
    text(left, 28, Anchor::start, title_, fmt::format(" font-size=\"{}\" font-weight=\"bold\"", title_size), title_size, true);
    for (std::size_t i = 0; i < notes_.size(); ++i) text(left, 48 + 18.0 * static_cast<double>(i), Anchor::start, notes_[i], " fill=\"#555\"");
    const auto x_ticks = nice_ticks(x_lo, x_hi, 8);
    for (double t : x_ticks) {
        svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", sx(t), top, top + plot_h);
        text(sx(t), top + plot_h + 18, Anchor::middle, tick_text(t, x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1), " fill=\"#333\"");
    }
    const auto y_ticks = nice_ticks(y_lo, y_hi, 8);
    for (double t : y_ticks) {
        svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", left, left + plot_w, sy(t));
        text(left - 6, sy(t) + 4, Anchor::end, tick_text(t, y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1), " fill=\"#333\"");
    }
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", left, top, plot_w, plot_h);
    text(left + plot_w / 2, height - 22.0, Anchor::middle, x_label_, "");
    // The y label reads upwards: rotated a quarter turn about its anchor, so its box is the text's turned on end.
    const double y_label_x = 22, y_label_w = text_width(y_label_, font_size);
    placer.block({y_label_x - text_ascent * font_size, top + plot_h / 2 - y_label_w / 2, (text_ascent + text_descent) * font_size, y_label_w});
    svg += fmt::format("<text transform=\"translate({} {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", y_label_x, top + plot_h / 2,
                       escape(y_label_));

    // Every marker and curve is known to the placer before the first label is placed.
    std::size_t line_index = 0;
    std::vector<std::size_t> line_style(series_.size());
    for (std::size_t i = 0; i < series_.size(); ++i) {
        const Series& s = series_[i];
        if (s.marker_only) {
            const double cx = sx(s.points[0].first), cy = sy(s.points[0].second);
            svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"/>\n", cx, cy, marker_radius, s.color);
            placer.block({cx - marker_radius - 1, cy - marker_radius - 1, 2 * marker_radius + 2, 2 * marker_radius + 2});
            continue;
        }
        std::vector<std::pair<double, double>> screen;
        std::string path;
        for (auto [x, y] : s.points) {
            screen.emplace_back(sx(x), sy(y));
            path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", sx(x), sy(y));
        }
        line_style[i] = line_index++;
        svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\"{}/>\n", path, s.color, stroke_attributes(line_style[i]));
        placer.avoid_curve(std::move(screen));
    }

    // Points are labelled first: a point's label must sit near it, a line's may follow a leader further.
    const double label_h = (text_ascent + text_descent) * font_size + 2 * label_padding;
    auto label = [&](const Series& s, std::size_t style) {
        const double swatch_w = s.marker_only ? 0.0 : swatch_width + swatch_gap;
        const double ax = sx(s.points.back().first), ay = sy(s.points.back().second);
        const PlacedLabel p = placer.place(ax, ay, text_width(s.label, font_size) + swatch_w + 2 * label_padding, label_h);
        if (p.leader) {
            svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"1\" stroke-opacity=\"0.6\"/>\n",
                               ax, ay, p.leader_end.first, p.leader_end.second, s.color);
        }
        const double x = p.box.x + label_padding, mid = p.box.y + p.box.h / 2;
        if (!s.marker_only) {
            svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"{}/>\n", x, mid, x + swatch_width, mid, s.color,
                               stroke_attributes(style));
        }
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"{}\">{}</text>\n", x + swatch_w, p.box.y + label_padding + text_ascent * font_size,
                           s.color, escape(s.label));
    };
    for (const auto& s : series_) {
        if (s.marker_only) label(s, 0);
    }
    for (std::size_t i = 0; i < series_.size(); ++i) {
        if (!series_[i].marker_only) label(series_[i], line_style[i]);
    }
    svg += "</svg>\n";
    return svg;
}

void SvgChart::write(const std::string& path) const {
    std::ofstream out(path);
    out << render();
    if (!out) throw core::Error(core::ErrorCode::io, "cannot write plot " + path);
}

}  // namespace hiro::eval
