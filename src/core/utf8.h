#pragma once

#include <cstddef>
#include <string_view>

namespace hiro::core {

// How many leading bytes of `text` can be sent on now: all of it, except a
// multi-byte UTF-8 sequence that has begun at its end but not finished (the
// next token completes it). Invalid bytes are not held back: JSON output
// replaces them with U+FFFD, as llama-server's does.
inline std::size_t sendable_utf8(std::string_view text) {
    const std::size_t n = text.size();
    for (std::size_t back = 1; back <= 4 && back <= n; ++back) {
        const auto c = static_cast<unsigned char>(text[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
        const std::size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

}  // namespace hiro::core
