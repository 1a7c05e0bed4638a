#pragma once

#include <string>

namespace hiro::core {

// A class of device hiro runs a tier on (config/devices/*.yaml): what it draws
// and what an hour of it costs, each figure with where it comes from.
struct DeviceProfile {
    std::string name;
    std::string device_class;  // cpu-board, gpu-board, microcontroller, cloud-gpu
    double power_w = 0.0;      // while computing
    double idle_power_w = 0.0;
    double hourly_cost_usd = 0.0;
    std::string power_source;
    std::string hourly_cost_source;
};

// Loads a profile; throws not_found for a missing file and invalid_input
// naming the field for a malformed one (every figure needs its source).
DeviceProfile load_device_profile(const std::string& path);

}  // namespace hiro::core
