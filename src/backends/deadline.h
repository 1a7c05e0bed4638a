#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/ip/tcp.hpp>

namespace hiro::backends {

class Deadlines;

// A time-out on one socket's operations, checked by its I/O thread ten times
// a second: when it passes, the socket is closed, so whatever waits on it
// fails, and expired() tells why. Arming and disarming only set a time: no
// timer per operation, no system call, no completion to dispatch, which is
// what lets one thread hold ten thousand streams that each read and write a
// few times a second. (Asio's per-operation timers cost a cancelled wait, and
// a scheduler round, for every read and write.) Times are kept to 100 ms;
// the checks run only while some deadline is armed.
// Lives on its socket's I/O thread.
class Deadline {
public:
    explicit Deadline(boost::asio::ip::tcp::socket& socket);
    ~Deadline();
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    void arm(std::chrono::steady_clock::duration after);
    void disarm() { armed_ = false; }
    bool expired() const { return expired_; }

private:
    friend class Deadlines;
    boost::asio::ip::tcp::socket& socket_;
    Deadlines& owner_;
    std::size_t slot_;  // its place in the owner's list
    std::chrono::steady_clock::time_point at_{};
    bool armed_ = false;
    bool expired_ = false;
};

}  // namespace hiro::backends
