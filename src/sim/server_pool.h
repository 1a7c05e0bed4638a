#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "sim/event_queue.h"

namespace hiro::sim {

// A request waiting for or holding a worker.
struct Job {
    std::uint32_t id = 0;
    double arrival = 0;     // when it joined the queue (ms)
    double service_ms = 0;  // alone on a worker
};

struct ServerStats {
    double busy_ms = 0;            // summed over workers
    double queue_area = 0;         // integral of the queue length over time
    std::size_t max_queue = 0;
    double wait_ms = 0;            // summed over jobs: start - arrival
    std::uint64_t jobs = 0, batches = 0;
};

// Shared workers (cores or GPUs) in front of one queue, FIFO or LIFO, each
// taking up to `max_batch` waiting jobs at once; a batch of b costs its mean
// service time x (1 + (b - 1) / batch_speedup). Completions are events of
// `done_kind` whose id is the worker.
class ServerPool {
public:
    ServerPool(int workers, int max_batch, double batch_speedup, bool lifo, std::uint32_t done_kind);

    void arrive(EventQueue& events, double now, Job job);
    // The jobs worker `worker` just finished; starts its next batch if any wait.
    const std::vector<Job>& finish(EventQueue& events, double now, std::uint32_t worker);

    const ServerStats& stats() const { return stats_; }
    int workers() const { return static_cast<int>(batches_.size()); }

private:
    void start(EventQueue& events, double now, std::uint32_t worker);
    void account_queue(double now);

    int max_batch_;
    double batch_speedup_;
    bool lifo_;
    std::uint32_t done_kind_;
    std::deque<Job> queue_;
    std::vector<std::vector<Job>> batches_;  // per worker: what it is serving
    std::vector<std::uint32_t> idle_;
    std::vector<Job> finished_;
    double last_change_ = 0;
    ServerStats stats_;
};

}  // namespace hiro::sim
