#include "core/device_profile.h"

#include <yaml-cpp/yaml.h>

#include <fstream>

#include "core/error.h"

namespace hiro::core {

DeviceProfile load_device_profile(const std::string& path) {
    if (!std::ifstream(path)) {
        throw Error(ErrorCode::not_found, "cannot open device profile " + path + " (see config/devices/ for the shipped ones)");
    }
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        throw Error(ErrorCode::invalid_input, path + ": not valid YAML: " + e.what());
    }
    auto text = [&](const char* key) {
        const YAML::Node v = root[key];
        if (!v || !v.IsScalar()) throw Error(ErrorCode::invalid_input, path + ": " + key + " is missing (a text)");
        return v.as<std::string>();
    };
    auto number = [&](const char* key) {
        const YAML::Node v = root[key];
        if (!v) throw Error(ErrorCode::invalid_input, path + ": " + key + " is missing (a number)");
        try {
            const double d = v.as<double>();
            if (d < 0) throw Error(ErrorCode::invalid_input, path + ": " + key + " must be >= 0");
            return d;
        } catch (const YAML::Exception&) {
            throw Error(ErrorCode::invalid_input, path + ": " + key + " must be a number");
        }
    };
    return DeviceProfile{text("name"),          text("class"),        number("power_w"),           number("idle_power_w"),
                         number("hourly_cost_usd"), text("power_source"), text("hourly_cost_source")};
}

}  // namespace hiro::core
