#pragma once

// Reads back the SVG charts hiro writes and reports what a reader would trip
// over: two texts on top of each other, text running off its canvas, text on
// a plotted marker. Text boxes come from eval::text_width, the estimate the
// charts lay out with, which errs wide (see text_width.h).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "eval/label_placer.h"
#include "eval/text_width.h"

namespace hiro::test {

struct SvgTextBox {
    std::string text;
    eval::Box box;
    eval::Box canvas;  // the (nested) svg it belongs to
};

struct SvgMarker {
    double cx = 0, cy = 0, r = 0;
};

struct SvgLayout {
    std::vector<SvgTextBox> texts;
    std::vector<SvgMarker> markers;
    std::vector<std::string> unreadable;  // elements the check cannot place (a rotation it does not know)
};

namespace svg_detail {

inline std::map<std::string, std::string> attributes(const std::string& tag) {
    std::map<std::string, std::string> out;
    static const std::regex attribute(R"re(([\w:-]+)\s*=\s*"([^"]*)")re");
    for (auto it = std::sregex_iterator(tag.begin(), tag.end(), attribute); it != std::sregex_iterator(); ++it) out[(*it)[1]] = (*it)[2];
    return out;
}

inline double number(const std::map<std::string, std::string>& a, const std::string& key, double fallback) {
    const auto it = a.find(key);
    return it == a.end() ? fallback : std::stod(it->second);
}

inline std::string unescape(std::string s) {
    static const std::pair<std::string, std::string> entities[] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
    for (const auto& [entity, c] : entities) {
        for (std::size_t at; (at = s.find(entity)) != std::string::npos;) s.replace(at, entity.size(), c);
    }
    return s;
}

// "translate(a b) rotate(r)" (either part optional) as {a, b, r}.
inline std::array<double, 3> transform(const std::string& t) {
    std::array<double, 3> out{0, 0, 0};
    std::smatch m;
    static const std::regex translate(R"(translate\(\s*([-\d.eE+]+)[\s,]+([-\d.eE+]+)\s*\))"), rotate(R"(rotate\(\s*([-\d.eE+]+)\s*\))");
    if (std::regex_search(t, m, translate)) out[0] = std::stod(m[1]), out[1] = std::stod(m[2]);
    if (std::regex_search(t, m, rotate)) out[2] = std::stod(m[1]);
    return out;
}

}  // namespace svg_detail

// Every text box and marker of an SVG, in the outermost svg's coordinates.
// Understands what hiro writes: nested <svg> and <g transform="translate()">,
// text-anchor, font-size and font-weight on a text or inherited from its svg,
// and text turned a quarter turn (rotate(-90)).
inline SvgLayout read_svg_layout(const std::string& svg) {
    using namespace svg_detail;
    struct Frame {
        std::string tag;
        double dx = 0, dy = 0, font_size = 16;
        eval::Box canvas;
    };
    SvgLayout layout;
    std::vector<Frame> stack{{"", 0, 0, 16, {0, 0, 1e9, 1e9}}};
    static const std::regex tag(R"(<(/?)([\w:-]+)([^>]*?)(/?)>)");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        const std::string name = m[2];
        const Frame& up = stack.back();
        if (m[1] == "/") {
            if (stack.size() > 1 && stack.back().tag == name) stack.pop_back();
            continue;
        }
        const auto a = attributes(m[3]);
        if (name == "svg" || name == "g") {
            Frame f = up;
            f.tag = name;
            f.font_size = number(a, "font-size", up.font_size);
            if (a.count("transform")) {
                const auto t = transform(a.at("transform"));
                f.dx += t[0], f.dy += t[1];
            }
            if (name == "svg") {
                f.dx += number(a, "x", 0), f.dy += number(a, "y", 0);
                f.canvas = {f.dx, f.dy, number(a, "width", up.canvas.w), number(a, "height", up.canvas.h)};
            }
            if (m[4] != "/") stack.push_back(f);
        } else if (name == "circle") {
            layout.markers.push_back({up.dx + number(a, "cx", 0), up.dy + number(a, "cy", 0), number(a, "r", 0)});
        } else if (name == "text") {
            const auto close = svg.find("</text>", static_cast<std::size_t>(m.position(0) + m.length(0)));
            const std::string content = unescape(svg.substr(static_cast<std::size_t>(m.position(0) + m.length(0)),
                                                            close - static_cast<std::size_t>(m.position(0) + m.length(0))));
            const double size = number(a, "font-size", up.font_size);
            const bool bold = a.count("font-weight") && a.at("font-weight") == "bold";
            const double w = eval::text_width(content, size, bold);
            const std::string anchor = a.count("text-anchor") ? a.at("text-anchor") : "start";
            const double start = anchor == "middle" ? -w / 2 : anchor == "end" ? -w : 0;
            const auto t = transform(a.count("transform") ? a.at("transform") : "");
            const double x = up.dx + t[0] + number(a, "x", 0), y = up.dy + t[1] + number(a, "y", 0);
            eval::Box box;
            if (t[2] == 0) {
                box = {x + start, y - eval::text_ascent * size, w, (eval::text_ascent + eval::text_descent) * size};
            } else if (t[2] == -90) {  // reads upwards: the run goes up the page, the ascent to the left
                box = {x - eval::text_ascent * size, y - start - w, (eval::text_ascent + eval::text_descent) * size, w};
            } else {
                layout.unreadable.push_back(fmt::format("text '{}' turned by {} degrees", content, t[2]));
                continue;
            }
            layout.texts.push_back({content, box, up.canvas});
        }
    }
    return layout;
}

// What is wrong with an SVG's layout, one line per problem (none: fine).
inline std::vector<std::string> svg_layout_problems(const std::string& svg) {
    const SvgLayout layout = read_svg_layout(svg);
    std::vector<std::string> problems = layout.unreadable;
    const auto& t = layout.texts;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (!t[i].box.inside(t[i].canvas)) problems.push_back(fmt::format("text '{}' leaves its canvas", t[i].text));
        for (std::size_t j = i + 1; j < t.size(); ++j) {
            if (t[i].box.overlaps(t[j].box)) problems.push_back(fmt::format("texts '{}' and '{}' overlap", t[i].text, t[j].text));
        }
        for (const auto& m : layout.markers) {
            // The box point nearest the marker's centre lies within its radius.
            const double nx = std::clamp(m.cx, t[i].box.x, t[i].box.right()), ny = std::clamp(m.cy, t[i].box.y, t[i].box.bottom());
            if (std::hypot(nx - m.cx, ny - m.cy) < m.r) {
                problems.push_back(fmt::format("text '{}' covers the point at ({:.1f}, {:.1f})", t[i].text, m.cx, m.cy));
            }
        }
    }
    return problems;
}

}  // namespace hiro::test
