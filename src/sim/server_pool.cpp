#include "sim/server_pool.h"

#include <algorithm>

namespace hiro::sim {

ServerPool::ServerPool(int workers, int max_batch, double batch_speedup, bool lifo, std::uint32_t done_kind)
    : max_batch_(max_batch), batch_speedup_(batch_speedup), lifo_(lifo), done_kind_(done_kind), batches_(static_cast<std::size_t>(workers)) {
    for (int w = workers - 1; w >= 0; --w) idle_.push_back(static_cast<std::uint32_t>(w));
}

void ServerPool::account_queue(double now) {
    stats_.queue_area += static_cast<double>(queue_.size()) * (now - last_change_);
    last_change_ = now;
}

void ServerPool::arrive(EventQueue& events, double now, Job job) {
    account_queue(now);
    queue_.push_back(job);
    stats_.max_queue = std::max(stats_.max_queue, queue_.size());
    if (!idle_.empty()) {
        const std::uint32_t worker = idle_.back();
        idle_.pop_back();
        start(events, now, worker);
    }
}

void ServerPool::start(EventQueue& events, double now, std::uint32_t worker) {
    auto& batch = batches_[worker];
    batch.clear();
    double service = 0;
    while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        Job j = lifo_ ? queue_.back() : queue_.front();
        if (lifo_) queue_.pop_back(); else queue_.pop_front();
        stats_.wait_ms += now - j.arrival;
        service += j.service_ms;
        batch.push_back(j);
    }
    const double b = static_cast<double>(batch.size());
    const double duration = service / b * (1.0 + (b - 1.0) / batch_speedup_);
    stats_.busy_ms += duration;
    stats_.jobs += batch.size();
    ++stats_.batches;
    events.push(now + duration, done_kind_, worker);
}

const std::vector<Job>& ServerPool::finish(EventQueue& events, double now, std::uint32_t worker) {
    account_queue(now);
    finished_.swap(batches_[worker]);
    if (queue_.empty()) {
        idle_.push_back(worker);
    } else {
        start(events, now, worker);
    }
    return finished_;
}

}  // namespace hiro::sim
