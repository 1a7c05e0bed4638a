#pragma once

#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <vector>

#include "sim/simulation.h"

namespace hiro::sim {

// One line per strategy: accuracy, latency distribution, device energy,
// offloaded share, and where time is lost waiting (device or edge server).
void print_table(std::ostream& out, const std::vector<SimResult>& results);

// Where the queue builds for one strategy, in words.
std::string bottleneck(const SimResult& r);

nlohmann::json to_json(const SimResult& r);

}  // namespace hiro::sim
