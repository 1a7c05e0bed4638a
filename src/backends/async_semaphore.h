#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>

#include "backends/task.h"

namespace hiro::backends {


// A counting semaphore that coroutines on any I/O thread await without
// holding their thread: a request waiting for a free slot of a tier costs a
// timer, not a thread. Waiters are served first come, first served.
class AsyncSemaphore {
public:
    explicit AsyncSemaphore(int units) : available_(units) {}

    // Takes a unit, waiting up to `timeout` for one; false when none came
    // free in time. A cancelled waiter throws operation_aborted and takes none.
    Task<bool> acquire(std::chrono::milliseconds timeout);
    void release();
    std::size_t waiting() const;

private:
    struct Waiter;
    mutable std::mutex mutex_;
    int available_;
    std::deque<std::shared_ptr<Waiter>> waiters_;
};

// Holds one unit until destroyed.
class SemaphoreUnit {
public:
    SemaphoreUnit() = default;
    explicit SemaphoreUnit(AsyncSemaphore* semaphore) : semaphore_(semaphore) {}
    SemaphoreUnit(SemaphoreUnit&& other) noexcept : semaphore_(std::exchange(other.semaphore_, nullptr)) {}
    SemaphoreUnit& operator=(SemaphoreUnit&& other) noexcept {
        if (this != &other) {
            if (semaphore_) semaphore_->release();
            semaphore_ = std::exchange(other.semaphore_, nullptr);
        }
        return *this;
    }
    ~SemaphoreUnit() {
        if (semaphore_) semaphore_->release();
    }

private:
    AsyncSemaphore* semaphore_ = nullptr;
};

}  // namespace hiro::backends
