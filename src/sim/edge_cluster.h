#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace hiro::sim {

// A pool of edge endpoints (e.g. llama-server processes) behind the gateway,
// each decoding `slots` requests at once with a FIFO queue in front, and a
// cloud tier that takes whatever would miss its deadline at the edge.
struct ClusterOptions {
    int endpoints = 3;
    int slots = 1;
    double deadline_ms = 0;        // every request's latency budget; 0 = none: never overflow
    std::size_t requests = 2000;   // measured per load level
    std::size_t warmup = 100;      // simulated before them and not measured: the estimates start unknown
    std::uint64_t seed = 1;
    std::vector<double> service_ms{1000.0};  // edge service times, drawn uniformly (one value = constant)
    std::vector<double> cloud_ms{800.0};     // cloud latencies, likewise
    double cloud_usd = 0;          // per cloud request
};

// One load level: what the measured requests saw.
struct ClusterResult {
    double rate = 0;  // Poisson arrivals per second
    double load = 0;  // rate / the pool's capacity
    std::size_t requests = 0;
    double mean_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
    double cloud_share = 0;
    double mmc_cloud_share = 0;   // what the M/M/c model says must overflow (mmc_queue.h)
    double edge_utilisation = 0;  // busy slot time / (slots x simulated time), whole run
    double edge_wait_ms = 0;      // mean queue wait of the measured requests the edge served
    double usd_per_1k = 0;        // cloud requests x cloud_usd, per 1,000 requests
    double simulated_s = 0;
    std::uint64_t events = 0;
};

double mean_of(const std::vector<double>& v);

// Requests per second the pool serves flat out: endpoints x slots / mean service (s).
double capacity_per_s(const ClusterOptions& o);

// Simulates warmup + requests Poisson arrivals at `rate` per second, routed as
// the gateway routes them (edge_cluster.cpp), and measures the last `requests`.
// Each level draws from the same seeded streams, so levels and settings differ
// only where the rule makes them differ.
ClusterResult simulate_cluster(const ClusterOptions& o, double rate);

// Times in ms, one number per line; `#` starts a comment, blank lines are
// skipped. Throws an Error naming the file and line for anything else.
std::vector<double> read_ms_samples(const std::string& path);

void print_cluster_table(std::ostream& out, const ClusterOptions& o, const std::vector<ClusterResult>& levels);
nlohmann::json to_json(const ClusterOptions& o, const std::vector<ClusterResult>& levels);

}  // namespace hiro::sim
