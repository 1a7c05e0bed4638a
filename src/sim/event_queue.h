#pragma once

#include <cstdint>
#include <queue>
#include <vector>

namespace hiro::sim {

// A timed event: what happens (kind) to whom (id) at `time` (ms).
struct Event {
    double time = 0;
    std::uint64_t seq = 0;  // insertion order breaks ties, so runs are deterministic
    std::uint32_t kind = 0;
    std::uint32_t id = 0;
};

// The future event list of a discrete-event simulation: a binary min-heap.
class EventQueue {
public:
    void push(double time, std::uint32_t kind, std::uint32_t id) { heap_.push({time, next_seq_++, kind, id}); }
    Event pop() {
        Event e = heap_.top();
        heap_.pop();
        ++processed_;
        return e;
    }
    bool empty() const { return heap_.empty(); }
    std::uint64_t processed() const { return processed_; }

private:
    struct Later {
        bool operator()(const Event& a, const Event& b) const { return a.time != b.time ? a.time > b.time : a.seq > b.seq; }
    };
    std::priority_queue<Event, std::vector<Event>, Later> heap_;
    std::uint64_t next_seq_ = 0;
    std::uint64_t processed_ = 0;
};

}  // namespace hiro::sim
