#include "backends/sse_reader.h"

namespace hiro::backends {

void SseReader::feed(std::string_view bytes, std::vector<std::string>& events) {
    while (!bytes.empty()) {
        const auto end = bytes.find('\n');
        if (end == std::string_view::npos) {
            line_.append(bytes);
            return;
        }
        line_.append(bytes.substr(0, end));
        bytes.remove_prefix(end + 1);
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        line(line_, events);
        line_.clear();
    }
}

void SseReader::line(std::string_view l, std::vector<std::string>& events) {
    if (l.empty()) {  // a blank line ends the event
        if (!data_.empty()) events.push_back(std::move(data_));
        data_.clear();
        return;
    }
    if (l.substr(0, 5) != "data:") return;  // comments, event:, id:, retry:
    l.remove_prefix(5);
    if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    if (!data_.empty()) data_ += '\n';
    data_ += l;
}

}  // namespace hiro::backends
