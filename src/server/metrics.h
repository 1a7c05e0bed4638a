#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hiro::server {

// Prometheus metrics in the text exposition format: counters, gauges and
// histograms, each with one set of label names. Updates are thread-safe;
// series are created on first use.
class Metrics {
public:
    void add(const std::string& counter, const std::vector<std::string>& labels, double value = 1.0);
    void set(const std::string& gauge, double value);
    // A gauge's value, or a counter kept elsewhere (an endpoint's requests), copied at scrape time.
    void set(const std::string& metric, const std::vector<std::string>& labels, double value);
    void observe(const std::string& histogram, const std::vector<std::string>& labels, double value);

    // Declares a metric (help text, label names, histogram buckets) once at start.
    void counter(const std::string& name, const std::string& help, std::vector<std::string> label_names);
    void gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
    void histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                   std::vector<double> buckets);

    std::string render() const;

private:
    struct Series {
        double value = 0.0;                 // counter / gauge
        std::vector<std::uint64_t> counts;  // histogram: one per bucket, then +Inf
        double sum = 0.0;
    };
    struct Family {
        std::string type, help;
        std::vector<std::string> label_names;
        std::vector<double> buckets;
        std::map<std::vector<std::string>, Series> series;
    };
    Family& family(const std::string& name);
    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

}  // namespace hiro::server
