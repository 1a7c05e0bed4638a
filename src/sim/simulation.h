#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/edge_profiles.h"
#include "sim/strategy_plans.h"

namespace hiro::sim {

struct SimOptions {
    std::size_t devices = 1000;
    std::size_t samples = 1000000;  // in total, spread evenly over the devices
    double rate_hz = 1.0;           // Poisson arrivals per device per second
    std::uint64_t seed = 1;
};

// Where a strategy's samples went and what they cost.
struct SimResult {
    std::string strategy;
    std::size_t samples = 0;
    double accuracy = 0;
    double mean_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
    std::vector<double> latency_percentiles;  // 0th to 100th, 101 values: the distribution's curve
    double energy_mj = 0;              // device energy per sample: compute, radio, waiting
    double offload_share = 0, exit_share = 0;  // answered remotely; answered at an early exit
    double device_wait_ms = 0;         // mean wait for the device's own processor
    double server_wait_ms = 0;         // mean wait in the edge server's queue (per request that reached it)
    double server_utilisation = 0;     // busy worker time / (workers x simulated time)
    double server_mean_queue = 0;
    std::size_t server_max_queue = 0;
    double cloud_usd = 0;
    double simulated_s = 0;
    std::uint64_t events = 0;
    double wall_s = 0;
};

struct Environment {
    core::DeviceProfile device;
    core::LinkProfile link;
    core::ServerProfile server;
    core::CloudProfile cloud;
};

// Discrete-event simulation of `devices` devices sharing one edge server pool
// and a cloud tier: each device's samples arrive as a Poisson stream, replay
// the strategy's per-sample plans (real outcomes) cyclically from a seeded
// offset, queue for the device's processor, cross the link (lost transfers
// are sent again), queue at the edge server and go on to the cloud when the
// plan says so.
SimResult simulate(const Strategy& strategy, const Environment& env, const SimOptions& options);

}  // namespace hiro::sim
