#include "sim/sim_report.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

namespace hiro::sim {

std::string bottleneck(const SimResult& r) {
    if (r.server_utilisation > 0.95) return fmt::format("edge server saturated (utilisation {:.0f}%, queue up to {})", r.server_utilisation * 100, r.server_max_queue);
    if (r.device_wait_ms > r.server_wait_ms && r.device_wait_ms > 0.05 * r.mean_ms) return "queue builds on the devices (compute slower than arrivals)";
    if (r.server_wait_ms > 0.05 * r.mean_ms) return fmt::format("queue builds at the edge server (mean wait {:.1f} ms)", r.server_wait_ms);
    return "no queue to speak of";
}

void print_table(std::ostream& out, const std::vector<SimResult>& results) {
    fmt::print(out, "{:<22} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8} {:>9} {:>9} {:>6} {:>9}  {}\n", "strategy", "accuracy", "mean ms", "p50 ms",
               "p95 ms", "p99 ms", "energy mJ", "offload", "dev wait", "srv wait", "util", "cloud $", "where queues build");
    for (const auto& r : results) {
        fmt::print(out, "{:<22} {:>8.4f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>10.4f} {:>8.3f} {:>9.2f} {:>9.2f} {:>5.0f}% {:>9.3f}  {}\n", r.strategy,
                   r.accuracy, r.mean_ms, r.p50_ms, r.p95_ms, r.p99_ms, r.energy_mj, r.offload_share, r.device_wait_ms, r.server_wait_ms,
                   r.server_utilisation * 100, r.cloud_usd, bottleneck(r));
    }
}

nlohmann::json to_json(const SimResult& r) {
    return {{"strategy", r.strategy},
            {"samples", r.samples},
            {"accuracy", r.accuracy},
            {"latency_ms", {{"mean", r.mean_ms}, {"p50", r.p50_ms}, {"p95", r.p95_ms}, {"p99", r.p99_ms}, {"max", r.max_ms}, {"percentiles", r.latency_percentiles}}},
            {"device_energy_mj", r.energy_mj},
            {"offload_share", r.offload_share},
            {"exit_share", r.exit_share},
            {"device_wait_ms", r.device_wait_ms},
            {"server", {{"wait_ms", r.server_wait_ms}, {"utilisation", r.server_utilisation}, {"mean_queue", r.server_mean_queue}, {"max_queue", r.server_max_queue}}},
            {"cloud_usd", r.cloud_usd},
            {"bottleneck", bottleneck(r)},
            {"simulated_s", r.simulated_s},
            {"events", r.events},
            {"wall_s", r.wall_s},
            {"events_per_s", r.wall_s > 0 ? static_cast<double>(r.events) / r.wall_s : 0.0}};
}

}  // namespace hiro::sim
