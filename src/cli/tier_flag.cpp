#include "cli/tier_flag.h"

#include <filesystem>

#include "core/error.h"

namespace hiro::cli {

backends::TierSpec parse_tier_flag(const std::string& arg) {
    backends::TierSpec spec;
    std::string rest = arg;
    if (const auto eq = rest.find('='); eq != std::string::npos && eq < rest.find(':')) {
        spec.name = rest.substr(0, eq);
        rest = rest.substr(eq + 1);
    }
    const auto colon = rest.find(':');
    spec.kind = rest.substr(0, colon);
    const std::string target = colon == std::string::npos ? "" : rest.substr(colon + 1);
    if (spec.kind == "local" && !target.empty()) {
        spec.model_path = target;
        if (spec.name.empty()) spec.name = std::filesystem::path(target).stem().string();
    } else if (spec.kind == "openai" && target.find('#') != std::string::npos) {
        spec.base_url = target.substr(0, target.find('#'));
        spec.model = target.substr(target.find('#') + 1);
        if (spec.name.empty()) spec.name = spec.model;
    } else {
        throw core::Error(core::ErrorCode::invalid_input,
                          "--tier " + arg + ": expected [NAME=]local:PATH.gguf or [NAME=]openai:URL#MODEL (e.g. openai:http://127.0.0.1:8080/v1#qwen)");
    }
    return spec;
}

}  // namespace hiro::cli
