#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace hiro::backends {

// Splits a Server-Sent Events byte stream, fed in arbitrary pieces, into the
// `data:` payloads of its events (multi-line data joined by newlines).
class SseReader {
public:
    using OnData = std::function<void(std::string_view data)>;
    explicit SseReader(OnData on_data) : on_data_(std::move(on_data)) {}

    void feed(std::string_view bytes);

private:
    void line(std::string_view l);
    OnData on_data_;
    std::string line_;
    std::string data_;
};

}  // namespace hiro::backends
