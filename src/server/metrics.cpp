#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace hiro::server {
namespace {

std::string label_text(const std::vector<std::string>& names, const std::vector<std::string>& values, const std::string& extra = "") {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        std::string v;
        for (char c : values[i]) {
            if (c == '"' || c == '\\') v += '\\';
            v += c == '\n' ? ' ' : c;
        }
        out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", names[i], v);
    }
    if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
    return out.empty() ? "" : "{" + out + "}";
}

}  // namespace

Metrics::Family& Metrics::family(const std::string& name) {
    auto it = families_.find(name);
    if (it == families_.end()) throw core::Error(core::ErrorCode::internal, "metric " + name + " was not declared");
    return it->second;
}

void Metrics::counter(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    families_[name] = Family{"counter", help, std::move(label_names), {}, {}};
}

void Metrics::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    families_[name] = Family{"gauge", help, std::move(label_names), {}, {}};
}

void Metrics::histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                        std::vector<double> buckets) {
    std::lock_guard lock(mutex_);
    families_[name] = Family{"histogram", help, std::move(label_names), std::move(buckets), {}};
}

void Metrics::add(const std::string& name, const std::vector<std::string>& labels, double value) {
    std::lock_guard lock(mutex_);
    family(name).series[labels].value += value;
}

void Metrics::set(const std::string& name, double value) { set(name, {}, value); }

void Metrics::set(const std::string& name, const std::vector<std::string>& labels, double value) {
    std::lock_guard lock(mutex_);
    family(name).series[labels].value = value;
}

void Metrics::observe(const std::string& name, const std::vector<std::string>& labels, double value) {
    std::lock_guard lock(mutex_);
    Family& f = family(name);
    Series& s = f.series[labels];
    if (s.counts.empty()) s.counts.assign(f.buckets.size() + 1, 0);
    const auto bucket = static_cast<std::size_t>(std::lower_bound(f.buckets.begin(), f.buckets.end(), value) - f.buckets.begin());
    ++s.counts[bucket];
    s.sum += value;
}

std::string Metrics::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
        if (f.type != "histogram") {
            if (f.series.empty() && f.label_names.empty()) out += fmt::format("{} 0\n", name);
            for (const auto& [labels, s] : f.series) out += fmt::format("{}{} {}\n", name, label_text(f.label_names, labels), s.value);
            continue;
        }
        for (const auto& [labels, s] : f.series) {
            std::uint64_t cumulative = 0;
            for (std::size_t b = 0; b <= f.buckets.size(); ++b) {
                cumulative += s.counts[b];
                const std::string le = b < f.buckets.size() ? fmt::format("le=\"{}\"", f.buckets[b]) : "le=\"+Inf\"";
                out += fmt::format("{}_bucket{} {}\n", name, label_text(f.label_names, labels, le), cumulative);
            }
            out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, label_text(f.label_names, labels), s.sum, name,
                               label_text(f.label_names, labels), cumulative);
        }
    }
    return out;
}

}  // namespace hiro::server
