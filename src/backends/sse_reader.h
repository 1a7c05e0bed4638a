#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hiro::backends {

// Splits a Server-Sent Events byte stream, fed in arbitrary pieces, into the
// `data:` payloads of its events (multi-line data joined by newlines).
class SseReader {
public:
    // Appends the payload of every event `bytes` completes to `events`.
    void feed(std::string_view bytes, std::vector<std::string>& events);

private:
    void line(std::string_view l, std::vector<std::string>& events);
    std::string line_;
    std::string data_;
};

}  // namespace hiro::backends
