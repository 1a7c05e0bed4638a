#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace hiro::cli {

// Writes JSON to a file, or to stdout for "-". Throws an io Error on failure.
void write_json(const std::string& path, const nlohmann::json& j);

}  // namespace hiro::cli
