#include "sim/simulation.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <numeric>
#include <random>

#include "core/error.h"
#include "sim/event_queue.h"
#include "sim/server_pool.h"

namespace hiro::sim {
namespace {

enum Kind : std::uint32_t { arrival, device_done, edge_arrival, edge_done };

struct Sample {
    double arrival = 0, local_done = 0;
    std::uint32_t plan = 0;
};

double percentile(const std::vector<float>& sorted, double q) { return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))]; }

}  // namespace

SimResult simulate(const Strategy& strategy, const Environment& env, const SimOptions& o) {
    if (o.devices == 0 || o.samples < o.devices) throw core::Error(core::ErrorCode::invalid_input, "simulate needs at least one device and one sample per device (--samples must be >= --devices)");
    if (strategy.plans.empty()) throw core::Error(core::ErrorCode::invalid_input, "strategy " + strategy.name + " has no samples to replay");
    if (o.samples > std::numeric_limits<std::uint32_t>::max()) throw core::Error(core::ErrorCode::invalid_input, "at most 4e9 samples");
    const auto wall_start = std::chrono::steady_clock::now();
    std::mt19937_64 rng(o.seed);
    std::exponential_distribution<double> gap(o.rate_hz / 1e3);  // per ms
    std::geometric_distribution<int> failures(1.0 - env.link.loss);
    const double half_rtt = env.link.rtt_ms / 2;
    const double ms_per_byte = 8e3 / env.link.uplink_bps;

    EventQueue events;
    ServerPool server(env.server.workers, env.server.max_batch, env.server.batch_speedup, env.server.discipline == "lifo", edge_done);
    std::vector<std::size_t> left(o.devices, o.samples / o.devices);
    for (std::size_t d = 0; d < o.samples % o.devices; ++d) ++left[d];
    std::vector<std::size_t> next_plan(o.devices);
    std::vector<double> device_free(o.devices, 0.0);
    for (std::size_t d = 0; d < o.devices; ++d) {
        next_plan[d] = rng() % strategy.plans.size();
        events.push(gap(rng), arrival, static_cast<std::uint32_t>(d));
    }
    std::vector<Sample> samples;
    samples.reserve(o.samples);
    std::vector<float> latency;
    latency.reserve(o.samples);
    double correct = 0, joule = 0, offloaded = 0, exited = 0, device_wait = 0, usd = 0, last_time = 0;

    // The answer is back on the device at `t`: account the sample.
    auto deliver = [&](const Sample& s, const SamplePlan& p, double t) {
        latency.push_back(static_cast<float>(t - s.arrival));
        correct += p.correct;
        joule += env.device.idle_power_w * (t - s.local_done) / 1e3;
        last_time = std::max(last_time, t);
    };
    // The device has its own answer or has finished computing: stop or send it on.
    auto after_device = [&](std::uint32_t id, double now) {
        Sample& s = samples[id];
        const SamplePlan& p = strategy.plans[s.plan];
        s.local_done = now;
        joule += env.device.active_power_w * p.device_ms / 1e3;
        exited += p.exited;
        offloaded += p.escalated;
        if (p.edge_ms == 0 && p.cloud_ms == 0) {
            latency.push_back(static_cast<float>(now - s.arrival));
            correct += p.correct;
            last_time = std::max(last_time, now);
            return;
        }
        const int sends = 1 + failures(rng);
        joule += sends * p.upload_bytes * env.link.tx_joule_per_byte;
        const double uploaded = now + sends * p.upload_bytes * ms_per_byte + half_rtt;
        if (p.edge_ms > 0) {
            events.push(uploaded, edge_arrival, id);
        } else {
            usd += p.cost_usd;
            deliver(s, p, uploaded + env.cloud.rtt_ms + p.cloud_ms + half_rtt);
        }
    };

    while (!events.empty()) {
        const Event e = events.pop();
        switch (e.kind) {
            case arrival: {
                const std::uint32_t id = static_cast<std::uint32_t>(samples.size());
                samples.push_back({e.time, 0, static_cast<std::uint32_t>(next_plan[e.id])});
                next_plan[e.id] = (next_plan[e.id] + 1) % strategy.plans.size();
                const SamplePlan& p = strategy.plans[samples.back().plan];
                // A device computes one sample at a time; later ones wait for it.
                const double start = std::max(e.time, device_free[e.id]);
                device_wait += start - e.time;
                device_free[e.id] = start + p.device_ms;
                if (p.device_ms > 0) events.push(device_free[e.id], device_done, id); else after_device(id, e.time);
                if (--left[e.id] > 0) events.push(e.time + gap(rng), arrival, e.id);
                break;
            }
            case device_done: after_device(e.id, e.time); break;
            case edge_arrival: server.arrive(events, e.time, {e.id, e.time, strategy.plans[samples[e.id].plan].edge_ms}); break;
            case edge_done:
                for (const Job& j : server.finish(events, e.time, e.id)) {
                    const Sample& s = samples[j.id];
                    const SamplePlan& p = strategy.plans[s.plan];
                    if (p.cloud_ms > 0) {
                        usd += p.cost_usd;
                        deliver(s, p, e.time + env.cloud.rtt_ms + p.cloud_ms + half_rtt);
                    } else {
                        deliver(s, p, e.time + half_rtt);
                    }
                }
                break;
        }
    }

    SimResult r;
    r.strategy = strategy.name;
    r.samples = latency.size();
    const double n = static_cast<double>(r.samples);
    r.accuracy = correct / n;
    r.mean_ms = std::accumulate(latency.begin(), latency.end(), 0.0) / n;
    std::sort(latency.begin(), latency.end());
    r.max_ms = latency.back();
    for (int q = 0; q <= 100; ++q) r.latency_percentiles.push_back(percentile(latency, q / 100.0));
    r.p50_ms = percentile(latency, 0.50);
    r.p95_ms = percentile(latency, 0.95);
    r.p99_ms = percentile(latency, 0.99);
    r.energy_mj = joule / n * 1e3;
    r.offload_share = offloaded / n;
    r.exit_share = exited / n;
    r.device_wait_ms = device_wait / n;
    const ServerStats& st = server.stats();
    r.server_wait_ms = st.jobs > 0 ? st.wait_ms / static_cast<double>(st.jobs) : 0.0;
    r.server_utilisation = last_time > 0 ? st.busy_ms / (server.workers() * last_time) : 0.0;
    r.server_mean_queue = last_time > 0 ? st.queue_area / last_time : 0.0;
    r.server_max_queue = st.max_queue;
    r.cloud_usd = usd;
    r.simulated_s = last_time / 1e3;
    r.events = events.processed();
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return r;
}

}  // namespace hiro::sim
