#pragma once

#include <cstdint>
#include <string_view>

namespace hiro::policy {

// A hash that is the same on every machine and run (std::hash is not), so a
// seeded random decision about a query is reproducible offline and online.
inline std::uint64_t stable_hash(std::string_view text, std::uint64_t seed) {
    std::uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);  // FNV-1a
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;  // splitmix64 finaliser: FNV's low bits alone are poorly mixed
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

inline double unit_interval(std::uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

}  // namespace hiro::policy
