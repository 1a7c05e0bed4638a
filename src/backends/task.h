#pragma once

#include <chrono>
#include <future>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace hiro::backends {

// An asynchronous operation of hiro's serving path: a C++20 coroutine on an
// Asio executor. Awaiting it suspends the caller instead of blocking its
// thread; an exception is the failure; cancellation (a client gone) arrives
// as a thrown operation_aborted from whatever the coroutine awaits.
//
// GCC 12 miscompiles two things coroutines here avoid: a braced aggregate
// temporary passed to a coroutine (`co_await f({a, b})`, `f(Struct{})`: it
// is destroyed twice; name it first, then pass it), and coroutine lambdas
// with captures (write a function taking them as parameters instead).
template <class T = void>
using Task = boost::asio::awaitable<T>;

// Throws operation_aborted when the awaiting coroutine was cancelled: Asio
// checks a coroutine's cancellation state whenever it awaits anything.
inline Task<void> check_cancelled() { co_return; }

// Runs a task to completion on a private io_context, for callers outside the
// gateway that want an answer on this thread (`hiro record`, tests).
template <class T>
T run_blocking(Task<T> task) {
    boost::asio::io_context ioc;
    auto result = boost::asio::co_spawn(ioc, std::move(task), boost::asio::use_future);
    ioc.run();
    return result.get();
}

// Runs a task to completion on `ioc` from this thread, and no further: work
// the task leaves on `ioc` (a connection waiting to read) stays for the next
// call, so several calls can share one connection.
template <class T>
T run_blocking(boost::asio::io_context& ioc, Task<T> task) {
    auto result = boost::asio::co_spawn(ioc, std::move(task), boost::asio::use_future);
    while (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        if (ioc.stopped()) ioc.restart();
        ioc.run_one();
    }
    return result.get();
}

}  // namespace hiro::backends
