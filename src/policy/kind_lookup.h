#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace hiro::policy {

// The kind called `name` in a table built from a .def registry; otherwise an
// invalid_input Error that says what was asked for and lists every known kind.
template <class Kind>
const Kind& find_kind(std::span<const Kind> kinds, std::string_view name, std::string_view what) {
    for (const auto& kind : kinds) {
        if (kind.name == name) return kind;
    }
    std::string known;
    for (const auto& kind : kinds) known += (known.empty() ? "" : ", ") + std::string(kind.name);
    throw core::Error(core::ErrorCode::invalid_input, "unknown " + std::string(what) + " '" + std::string(name) + "'; known: " + known);
}

}  // namespace hiro::policy
