#pragma once

#include <span>
#include <string>
#include <string_view>

namespace hiro::cli {

// A --help section listing a registry's kinds, one "name: summary" line each,
// so a new kind appears in the help by its registration line alone.
template <class Kind>
std::string kinds_help(std::string_view title, std::span<const Kind> kinds) {
    std::string help = "\n" + std::string(title) + ":\n";
    for (const auto& kind : kinds) help += "  " + std::string(kind.name) + ": " + std::string(kind.summary) + "\n";
    return help;
}

}  // namespace hiro::cli
