#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hiro::bench {

// Peak resident set size of this process so far, in bytes (VmHWM from
// /proc/self/status, else getrusage's ru_maxrss).
std::int64_t peak_rss_bytes();

// CPU time this process's threads have used so far, in seconds: unlike wall
// clock, barely moved by other load on a shared machine.
double process_cpu_seconds();

// The energy counters of Intel/AMD RAPL (powercap) package zones at one moment.
struct RaplReading {
    struct Zone {
        std::uint64_t energy_uj = 0;
        std::uint64_t max_energy_uj = 0;  // where the counter wraps
    };
    std::vector<Zone> zones;
};

// Reads every package zone (intel-rapl:N, not its sub-zones) under `root`;
// nullopt when there are none or the kernel does not let this user read them.
std::optional<RaplReading> read_rapl(const std::string& root = "/sys/class/powercap");

// Joules the packages used between two readings, allowing for counter wrap.
double rapl_joules(const RaplReading& before, const RaplReading& after);

}  // namespace hiro::bench
