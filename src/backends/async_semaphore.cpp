#include "backends/async_semaphore.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hiro::backends {

namespace asio = boost::asio;

// A waiter sleeps on a timer of its own I/O thread; release() grants it a
// unit under the lock, then wakes it on that thread.
struct AsyncSemaphore::Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool granted = false;  // guarded by the semaphore's mutex
};

Task<bool> AsyncSemaphore::acquire(std::chrono::milliseconds timeout) {
    auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
    {
        std::lock_guard lock(mutex_);
        if (available_ > 0 && waiters_.empty()) {
            --available_;
            co_return true;
        }
        waiters_.push_back(waiter);
    }
    waiter->timer.expires_after(timeout);
    co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    bool granted;
    {
        std::lock_guard lock(mutex_);
        granted = waiter->granted;
        if (!granted) std::erase(waiters_, waiter);
    }
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
        if (granted) release();  // granted to a waiter that has gone: passed on
        throw boost::system::system_error(asio::error::operation_aborted);
    }
    co_return granted;
}

void AsyncSemaphore::release() {
    std::shared_ptr<Waiter> next;
    {
        std::lock_guard lock(mutex_);
        if (waiters_.empty()) {
            ++available_;
            return;
        }
        next = std::move(waiters_.front());
        waiters_.pop_front();
        next->granted = true;
    }
    asio::post(next->timer.get_executor(), [next] { next->timer.cancel(); });
}

std::size_t AsyncSemaphore::waiting() const {
    std::lock_guard lock(mutex_);
    return waiters_.size();
}

}  // namespace hiro::backends
