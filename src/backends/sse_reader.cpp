#include "backends/sse_reader.h"

namespace hiro::backends {

void SseReader::feed(std::string_view bytes) {
    for (char c : bytes) {
        if (c != '\n') {
            line_ += c;
            continue;
        }
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        line(line_);
        line_.clear();
    }
}

void SseReader::line(std::string_view l) {
    if (l.empty()) {  // a blank line ends the event
        if (!data_.empty()) {
            on_data_(data_);
            data_.clear();
        }
        return;
    }
    if (l.substr(0, 5) != "data:") return;  // comments, event:, id:, retry:
    l.remove_prefix(5);
    if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    if (!data_.empty()) data_ += '\n';
    data_ += l;
}

}  // namespace hiro::backends
