#include "eval/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace hiro::eval {
namespace {

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

void SvgChart::add_line(std::vector<std::pair<double, double>> points, std::string label, std::string color, bool dashed) {
    if (!points.empty()) series_.push_back({std::move(points), std::move(label), std::move(color), dashed, false});
}

void SvgChart::add_point(double x, double y, std::string label, std::string color) {
    series_.push_back({{{x, y}}, std::move(label), std::move(color), false, true});
}

void SvgChart::add_note(std::string text) { notes_.push_back(std::move(text)); }

std::string SvgChart::render(int width, int height) const {
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

    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        width, height);
    svg += fmt::format("<text x=\"{}\" y=\"28\" font-size=\"17\" font-weight=\"bold\">{}</text>\n", left, escape(title_));
    for (std::size_t i = 0; i < notes_.size(); ++i) {
        svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#555\">{}</text>\n", left, 48 + 18 * i, escape(notes_[i]));
    }
    const auto x_ticks = nice_ticks(x_lo, x_hi, 8);
    for (double t : x_ticks) {
        svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", sx(t), top, top + plot_h);
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n", sx(t), top + plot_h + 18,
                           tick_text(t, x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1));
    }
    const auto y_ticks = nice_ticks(y_lo, y_hi, 8);
    for (double t : y_ticks) {
        svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", left, left + plot_w, sy(t));
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#333\">{}</text>\n", left - 6, sy(t) + 4,
                           tick_text(t, y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1));
    }
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", left, top, plot_w, plot_h);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", left + plot_w / 2, height - 22.0, escape(x_label_));
    svg += fmt::format("<text transform=\"translate(22 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", top + plot_h / 2,
                       escape(y_label_));

    // Labels sit at each series' last point; nudge them apart top to bottom.
    struct Label {
        double x, y;
        const Series* s;
    };
    std::vector<Label> labels;
    for (const auto& s : series_) {
        if (s.marker_only) {
            svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/>\n", sx(s.points[0].first), sy(s.points[0].second), s.color);
        } else {
            std::string path;
            for (auto [x, y] : s.points) path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", sx(x), sy(y));
            svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", path, s.color,
                               s.dashed ? " stroke-dasharray=\"6 4\"" : "");
        }
        // Lines are labelled in the right margin, level with their end; points beside themselves.
        labels.push_back({s.marker_only ? sx(s.points.back().first) + 8 : left + plot_w + 8, sy(s.points.back().second) + 4, &s});
    }
    std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.y < b.y; });
    for (std::size_t i = 1; i < labels.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const bool near_x = std::abs(labels[i].x - labels[j].x) < 200;
            if (near_x && labels[i].y - labels[j].y < 15) labels[i].y = labels[j].y + 15;
        }
    }
    for (const auto& l : labels) {
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"{}\">{}</text>\n", l.x, l.y, l.s->color, escape(l.s->label));
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
