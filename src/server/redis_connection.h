#pragma once

#include <chrono>
#include <list>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "backends/task.h"
#include "core/error.h"
#include "core/openai_response.h"

struct redisAsyncContext;

namespace hiro::server {

using backends::Task;

// Where the shared store is: redis://HOST[:PORT][/DB].
struct RedisAddress {
    std::string host;
    int port = 6379;
    int db = 0;
    std::string url;       // as configured, for messages
    std::string password;  // sent with AUTH first on every connection (empty: none)
};
// Throws an invalid_input core::Error saying what is wrong with `url`.
RedisAddress parse_redis_url(const std::string& url);

// Why a store call gave no answer: unreachable, too slow, or an error reply.
class StoreUnavailable : public core::Error {
public:
    explicit StoreUnavailable(const std::string& what) : core::Error(core::ErrorCode::upstream, what) {}
};

// One connection to Redis on one io_context, driven by hiredis's asynchronous
// API through Asio (hiro's I/O thread waits on the socket; no thread blocks).
// Commands are pipelined; each waits at most `timeout` for its reply. A reply
// that does not come in time, or a connection that breaks, takes the
// connection down: calls then fail at once until the next attempt to
// reconnect, made on demand after a backoff (50 ms doubling to 500 ms), so a
// Redis that comes back is used again within a second. Every member runs on
// the io_context's thread.
class RedisConnection {
public:
    RedisConnection(boost::asio::io_context& ioc, RedisAddress address, std::chrono::milliseconds timeout,
                    std::vector<std::vector<std::string>> handshake = {});
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Sends one command (its arguments, binary-safe) and returns the reply as
    // JSON (nil: null, integers: numbers, strings and statuses: strings,
    // arrays: arrays). Throws StoreUnavailable on no reply within the timeout,
    // a broken connection or an error reply (whose text it carries).
    Task<core::Json> call(std::vector<std::string> args);

    bool up() const { return state_ == State::up; }
    const RedisAddress& address() const { return address_; }

private:
    enum class State { down, connecting, up };
    struct Pending;
    struct Adapter;

    void connect();
    void drop(const std::string& why);  // closes the connection from hiro's side (not from a hiredis callback)
    void lost(const std::string& why);
    std::string unavailable(const std::string& why) const;
    void notify_waiters();
    static void on_connect(const redisAsyncContext* ac, int status);
    static void on_disconnect(const redisAsyncContext* ac, int status);
    static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
    static void on_handshake_reply(redisAsyncContext* ac, void* reply, void* privdata);
    bool send(const std::vector<std::string>& args, void (*callback)(redisAsyncContext*, void*, void*), void* privdata);

    boost::asio::io_context& ioc_;
    RedisAddress address_;
    std::chrono::milliseconds timeout_;
    std::vector<std::vector<std::string>> handshake_;  // commands sent first on every connection (SELECT, SCRIPT LOAD)
    redisAsyncContext* context_ = nullptr;
    std::shared_ptr<Adapter> adapter_;
    State state_ = State::down;
    std::string last_error_ = "not connected yet";
    std::chrono::steady_clock::time_point next_attempt_{};
    std::chrono::milliseconds backoff_{50};
    std::size_t handshake_left_ = 0;
    std::list<boost::asio::steady_timer*> waiters_;  // calls waiting for a connection in progress
    boost::asio::steady_timer connect_timer_;        // ends a connection attempt Redis does not answer
    std::string closing_reason_;                     // why hiro asked hiredis to close the connection
};

// One RedisConnection per I/O thread (io_context), made on first use, so a
// request talks to Redis from the thread it runs on and no connection is
// shared between threads.
class RedisConnections {
public:
    RedisConnections(RedisAddress address, std::chrono::milliseconds timeout, std::vector<std::vector<std::string>> handshake = {})
        : address_(std::move(address)), timeout_(timeout), handshake_(std::move(handshake)) {}
    // The connection of the calling coroutine's io_context.
    Task<RedisConnection*> here();
    // Closes every connection; call while their io_contexts still exist.
    void close();
    const RedisAddress& address() const { return address_; }

private:
    RedisAddress address_;
    std::chrono::milliseconds timeout_;
    std::vector<std::vector<std::string>> handshake_;
    std::mutex mutex_;
    std::map<const void*, std::unique_ptr<RedisConnection>> connections_;  // by io_context
};

}  // namespace hiro::server
