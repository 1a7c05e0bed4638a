#include "bench/machine_meters.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

namespace hiro::bench {

std::int64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6)) * 1024;  // reported in kB
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
}

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::optional<RaplReading> read_rapl(const std::string& root) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) return std::nullopt;
    static const std::regex package(R"(intel-rapl:\d+)");
    std::vector<std::filesystem::path> zones;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
        if (std::regex_match(entry.path().filename().string(), package)) zones.push_back(entry.path());
    }
    std::sort(zones.begin(), zones.end());
    RaplReading reading;
    for (const auto& zone : zones) {
        std::ifstream energy(zone / "energy_uj"), range(zone / "max_energy_range_uj");
        RaplReading::Zone z;
        if (!(energy >> z.energy_uj)) return std::nullopt;  // root-only since CVE-2020-8694 on most kernels
        if (!(range >> z.max_energy_uj)) z.max_energy_uj = 0;
        reading.zones.push_back(z);
    }
    if (reading.zones.empty()) return std::nullopt;
    return reading;
}

double rapl_joules(const RaplReading& before, const RaplReading& after) {
    double uj = 0.0;
    for (std::size_t i = 0; i < std::min(before.zones.size(), after.zones.size()); ++i) {
        const auto& b = before.zones[i];
        const auto& a = after.zones[i];
        uj += a.energy_uj >= b.energy_uj ? static_cast<double>(a.energy_uj - b.energy_uj)
                                         : static_cast<double>(a.max_energy_uj - b.energy_uj + a.energy_uj);
    }
    return uj / 1e6;
}

}  // namespace hiro::bench
