#include "sim/edge_cluster.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/line_reader.h"
#include "core/service_estimate.h"
#include "sim/event_queue.h"
#include "sim/mmc_queue.h"
#include "sim/server_pool.h"

namespace hiro::sim {
namespace {

constexpr std::uint32_t arrival = 0;  // an endpoint's completions are events of kind 1 + its index

void validate(const ClusterOptions& o, double rate) {
    auto bad = [](const std::string& what) { throw core::Error(core::ErrorCode::invalid_input, "cluster simulation: " + what); };
    if (o.endpoints < 1 || o.slots < 1) bad("needs at least one endpoint with at least one slot");
    if (o.requests < 1) bad("needs at least one request per load level");
    if (o.warmup + o.requests > std::numeric_limits<std::uint32_t>::max()) bad("at most 4e9 requests per level");
    if (!(o.deadline_ms >= 0) || !std::isfinite(o.deadline_ms)) bad("the deadline must be 0 (none) or positive");
    if (!(rate > 0) || !std::isfinite(rate)) bad(fmt::format("the arrival rate must be positive (got {})", rate));
    if (o.service_ms.empty() || o.cloud_ms.empty()) bad("needs at least one edge service time and one cloud latency");
    for (const auto* v : {&o.service_ms, &o.cloud_ms}) {
        for (double x : *v) {
            if (!(x > 0) || !std::isfinite(x)) bad(fmt::format("times must be positive (got {})", x));
        }
    }
}

// Power of two choices, least outstanding: two distinct endpoints drawn
// uniformly, the one with fewer requests running or queued; ties go to the first.
std::size_t choose(const std::vector<int>& outstanding, std::mt19937_64& rng) {
    const std::size_t n = outstanding.size();
    if (n == 1) return 0;
    const std::size_t a = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    std::size_t b = std::uniform_int_distribution<std::size_t>(0, n - 2)(rng);
    if (b >= a) ++b;
    return outstanding[b] < outstanding[a] ? b : a;
}

double draw(const std::vector<double>& samples, std::mt19937_64& rng) {
    return samples.size() == 1 ? samples[0] : samples[std::uniform_int_distribution<std::size_t>(0, samples.size() - 1)(rng)];
}

double percentile(const std::vector<double>& sorted, double q) { return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))]; }

}  // namespace

double mean_of(const std::vector<double>& v) { return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

double capacity_per_s(const ClusterOptions& o) { return o.endpoints * o.slots / (mean_of(o.service_ms) / 1e3); }

ClusterResult simulate_cluster(const ClusterOptions& o, double rate) {
    validate(o, rate);
    // One stream per kind of draw: a request's service and cloud times do not
    // depend on where earlier requests went, so comparisons across deadlines
    // and loads are not blurred by reshuffled randomness.
    std::mt19937_64 arrivals(o.seed), picks(o.seed + 0x9e3779b97f4a7c15ULL), services(o.seed + 2 * 0x9e3779b97f4a7c15ULL),
        clouds(o.seed + 3 * 0x9e3779b97f4a7c15ULL);
    std::exponential_distribution<double> gap(rate / 1e3);  // per ms
    const auto endpoints = static_cast<std::size_t>(o.endpoints);
    std::vector<ServerPool> pools;
    pools.reserve(endpoints);
    for (std::size_t e = 0; e < endpoints; ++e) pools.emplace_back(o.slots, 1, 1.0, false, static_cast<std::uint32_t>(1 + e));
    std::vector<core::ServiceEstimate> estimates(endpoints);
    std::vector<int> outstanding(endpoints, 0);  // running + queued, as the gateway counts them

    const std::size_t total = o.warmup + o.requests;
    std::vector<double> latency;
    latency.reserve(o.requests);
    double cloud = 0, edge_wait = 0, end = 0;
    std::size_t arrived = 0, edge_served = 0;
    EventQueue events;
    events.push(gap(arrivals), arrival, 0);
    while (!events.empty()) {
        const Event ev = events.pop();
        end = std::max(end, ev.time);
        if (ev.kind == arrival) {
            const auto id = static_cast<std::uint32_t>(arrived++);
            const double service = draw(o.service_ms, services), cloud_ms = draw(o.cloud_ms, clouds);
            const std::size_t e = choose(outstanding, picks);
            // No estimate before the endpoint's first answer: nothing to overflow on.
            const bool overflow = o.deadline_ms > 0 && estimates[e].known() &&
                                  core::overflows(estimates[e].predict_ms(outstanding[e], o.slots), o.deadline_ms);
            if (overflow) {
                end = std::max(end, ev.time + cloud_ms);  // unlimited capacity: no queue, no event needed
                if (id >= o.warmup) {
                    latency.push_back(cloud_ms);
                    ++cloud;
                }
            } else {
                ++outstanding[e];
                pools[e].arrive(events, ev.time, {id, ev.time, service});
            }
            if (arrived < total) events.push(ev.time + gap(arrivals), arrival, 0);
        } else {
            const std::size_t e = ev.kind - 1;
            for (const Job& j : pools[e].finish(events, ev.time, ev.id)) {
                --outstanding[e];
                // The gateway times the upstream's answer; the wait in hiro's own queue is not part of it.
                estimates[e].observe(j.service_ms);
                if (j.id >= o.warmup) {
                    latency.push_back(ev.time - j.arrival);
                    edge_wait += ev.time - j.arrival - j.service_ms;
                    ++edge_served;
                }
            }
        }
    }

    ClusterResult r;
    r.rate = rate;
    r.load = rate / capacity_per_s(o);
    r.requests = latency.size();
    const double n = static_cast<double>(r.requests);
    r.mean_ms = mean_of(latency);
    std::sort(latency.begin(), latency.end());
    r.p50_ms = percentile(latency, 0.50);
    r.p95_ms = percentile(latency, 0.95);
    r.p99_ms = percentile(latency, 0.99);
    r.max_ms = latency.back();
    r.cloud_share = cloud / n;
    r.usd_per_1k = r.cloud_share * 1000.0 * o.cloud_usd;
    r.edge_wait_ms = edge_served > 0 ? edge_wait / static_cast<double>(edge_served) : 0.0;
    double busy = 0;
    for (const auto& p : pools) busy += p.stats().busy_ms;
    r.edge_utilisation = end > 0 ? busy / (o.endpoints * o.slots * end) : 0.0;
    // The pooled M/M/c view of the same cluster: c = endpoints x slots, exponential
    // service of the same mean; a request overflows when its wait would exceed
    // what the deadline leaves after a mean service.
    const double service = mean_of(o.service_ms);
    const double slack = o.deadline_ms > 0 ? o.deadline_ms - service : std::numeric_limits<double>::infinity();
    r.mmc_cloud_share = overflow_share(o.endpoints * o.slots, rate / 1e3, 1.0 / service, slack);
    r.simulated_s = end / 1e3;
    r.events = events.processed();
    return r;
}

std::vector<double> read_ms_samples(const std::string& path) {
    core::LineReader in(path);
    std::vector<double> out;
    std::string line;
    while (in.next(line)) {
        auto where = [&] { return fmt::format("{} line {}", path, in.line_number()); };
        std::string_view s(line);
        s = s.substr(0, s.find('#'));
        const auto first = s.find_first_not_of(" \t"), last = s.find_last_not_of(" \t");
        if (first == std::string_view::npos) continue;
        s = s.substr(first, last - first + 1);
        double v = 0;
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
            throw core::Error(core::ErrorCode::invalid_input, fmt::format("{}: '{}' is not a number of milliseconds", where(), s));
        }
        if (v <= 0) throw core::Error(core::ErrorCode::invalid_input, fmt::format("{}: {} ms is not positive", where(), v));
        out.push_back(v);
    }
    if (out.empty()) throw core::Error(core::ErrorCode::invalid_input, path + ": no times in it (one number of milliseconds per line)");
    return out;
}

void print_cluster_table(std::ostream& out, const ClusterOptions& o, const std::vector<ClusterResult>& levels) {
    const bool deadline = o.deadline_ms > 0;
    fmt::print(out, "{} endpoints x {} slot{}, edge service {:.0f} ms mean (capacity {:.3g} req/s), {}\n", o.endpoints, o.slots,
               o.slots == 1 ? "" : "s", mean_of(o.service_ms), capacity_per_s(o),
               deadline ? fmt::format("deadline {:.0f} ms, cloud {:.0f} ms mean", o.deadline_ms, mean_of(o.cloud_ms))
                        : std::string("no deadline (nothing overflows)"));
    fmt::print(out, "power of two choices, least outstanding{}; {} requests per level after {} warm-up\n",
               deadline ? "; overflow to the cloud when the predicted latency exceeds the deadline" : "", o.requests, o.warmup);
    fmt::print(out, "{:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6} {:>10} {:>9}\n", "load", "req/s", "p50 ms", "p95 ms", "p99 ms",
               "mean ms", "cloud", "M/M/c", "util", "wait ms", "$/1k req");
    for (const auto& r : levels) {
        fmt::print(out, "{:>5.2f}x {:>8.3g} {:>9.0f} {:>9.0f} {:>9.0f} {:>9.0f} {:>6.1f}% {:>6.1f}% {:>5.0f}% {:>10.0f} {:>9.3f}\n", r.load, r.rate,
                   r.p50_ms, r.p95_ms, r.p99_ms, r.mean_ms, r.cloud_share * 100, r.mmc_cloud_share * 100, r.edge_utilisation * 100,
                   r.edge_wait_ms, r.usd_per_1k);
    }
    fmt::print(out, "cloud: share sent to the cloud; M/M/c: the share an M/M/c model of the pool says must go ({}); "
                    "util: edge slots busy; wait: mean queue wait at the edge\n",
               deadline ? "to wait at most the deadline less a mean service" : "without a deadline: to keep the queue stable");
}

nlohmann::json to_json(const ClusterOptions& o, const std::vector<ClusterResult>& levels) {
    nlohmann::json j{{"endpoints", o.endpoints},
                     {"slots", o.slots},
                     {"deadline_ms", o.deadline_ms},
                     {"service_mean_ms", mean_of(o.service_ms)},
                     {"service_samples", o.service_ms.size()},
                     {"cloud_usd", o.cloud_usd},
                     {"capacity_per_s", capacity_per_s(o)},
                     {"requests", o.requests},
                     {"warmup", o.warmup},
                     {"seed", o.seed},
                     {"levels", nlohmann::json::array()}};
    // Without a deadline nothing reaches the cloud: no cloud figures to report.
    if (o.deadline_ms > 0) j.update({{"cloud_mean_ms", mean_of(o.cloud_ms)}, {"cloud_samples", o.cloud_ms.size()}});
    for (const auto& r : levels) {
        j["levels"].push_back({{"rate_per_s", r.rate},
                               {"load", r.load},
                               {"requests", r.requests},
                               {"latency_ms", {{"mean", r.mean_ms}, {"p50", r.p50_ms}, {"p95", r.p95_ms}, {"p99", r.p99_ms}, {"max", r.max_ms}}},
                               {"cloud_share", r.cloud_share},
                               {"mmc_cloud_share", r.mmc_cloud_share},
                               {"edge_utilisation", r.edge_utilisation},
                               {"edge_wait_ms", r.edge_wait_ms},
                               {"usd_per_1k_requests", r.usd_per_1k},
                               {"simulated_s", r.simulated_s},
                               {"events", r.events}});
    }
    return j;
}

}  // namespace hiro::sim
