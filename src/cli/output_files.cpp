#include "cli/output_files.h"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hiro::cli {

void write_json(const std::string& path, const nlohmann::json& j) {
    if (path == "-") {
        std::cout << j.dump(2) << '\n';
        return;
    }
    std::ofstream out(path);
    out << j.dump(2) << '\n';
    if (!out) throw core::Error(core::ErrorCode::io, "cannot write " + path);
}

}  // namespace hiro::cli
