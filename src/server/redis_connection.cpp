#include "server/redis_connection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <regex>

namespace hiro::server {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using core::Json;

Json to_json(const redisReply* r) {
    switch (r->type) {
        case REDIS_REPLY_INTEGER: return r->integer;
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS: return std::string(r->str, r->len);
        case REDIS_REPLY_ARRAY: {
            Json a = Json::array();
            for (std::size_t i = 0; i < r->elements; ++i) a.push_back(to_json(r->element[i]));
            return a;
        }
        default: return nullptr;
    }
}

}  // namespace

RedisAddress parse_redis_url(const std::string& url) {
    static const std::regex form(R"(redis://([A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?(?:/(\d{1,2}))?/?)");
    std::smatch m;
    if (!std::regex_match(url, m, form)) {
        throw core::Error(core::ErrorCode::invalid_input, "'" + url + "' is not a Redis URL: write redis://HOST[:PORT][/DB], e.g. redis://127.0.0.1:6379/0");
    }
    RedisAddress a;
    a.url = url;
    a.host = m[1].str();
    if (a.host.front() == '[') a.host = a.host.substr(1, a.host.size() - 2);
    if (m[2].matched) a.port = std::stoi(m[2].str());
    if (m[3].matched) a.db = std::stoi(m[3].str());
    if (a.port < 1 || a.port > 65535) throw core::Error(core::ErrorCode::invalid_input, url + ": the port must be 1 to 65535");
    return a;
}

// A reply awaited by one call: the callback fills it and wakes the caller by
// cancelling the timer that otherwise ends the wait at the timeout.
struct RedisConnection::Pending {
    explicit Pending(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;
    Json reply;
    std::string error;
    bool done = false;
};

// hiredis's event hooks on an Asio descriptor: hiredis says when it wants to
// read or write, Asio says when the socket is ready, hiredis does the I/O.
// Handlers hold the adapter, so it outlives the context hiredis frees.
struct RedisConnection::Adapter : std::enable_shared_from_this<Adapter> {
    Adapter(asio::io_context& ioc, redisAsyncContext* c) : socket(ioc, c->c.fd), context(c) {}
    asio::posix::stream_descriptor socket;
    redisAsyncContext* context;
    bool reading = false, writing = false, read_armed = false, write_armed = false, closed = false;

    void arm(bool read) {
        bool& armed = read ? read_armed : write_armed;
        if (armed || closed) return;
        armed = true;
        socket.async_wait(read ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write,
                          [self = shared_from_this(), read](const boost::system::error_code& ec) {
                              (read ? self->read_armed : self->write_armed) = false;
                              bool& wanted = read ? self->reading : self->writing;
                              if (ec || self->closed || !wanted) return;
                              if (read) {
                                  redisAsyncHandleRead(self->context);
                              } else {
                                  redisAsyncHandleWrite(self->context);
                              }
                              if (!self->closed && wanted) self->arm(read);
                          });
    }
    void cleanup() {
        closed = true;
        reading = writing = false;
        boost::system::error_code ignored;
        socket.cancel(ignored);
        socket.release();  // hiredis closes the descriptor itself
    }
};

RedisConnection::RedisConnection(asio::io_context& ioc, RedisAddress address, std::chrono::milliseconds timeout,
                                 std::vector<std::vector<std::string>> handshake)
    : ioc_(ioc), address_(std::move(address)), timeout_(timeout), handshake_(std::move(handshake)), connect_timer_(ioc) {
    if (address_.db != 0) handshake_.insert(handshake_.begin(), {"SELECT", std::to_string(address_.db)});
    if (!address_.password.empty()) handshake_.insert(handshake_.begin(), {"AUTH", address_.password});
}

RedisConnection::~RedisConnection() {
    if (redisAsyncContext* c = std::exchange(context_, nullptr)) redisAsyncFree(c);
}

void RedisConnection::connect() {
    state_ = State::connecting;
    redisAsyncContext* c = redisAsyncConnect(address_.host.c_str(), address_.port);
    if (c == nullptr || c->err) {
        const std::string why = c ? c->errstr : "out of memory";
        if (c) redisAsyncFree(c);
        lost(why);
        return;
    }
    context_ = c;
    c->data = this;
    adapter_ = std::make_shared<Adapter>(ioc_, c);
    c->ev.data = adapter_.get();
    c->ev.addRead = [](void* a) { static_cast<Adapter*>(a)->reading = true, static_cast<Adapter*>(a)->arm(true); };
    c->ev.delRead = [](void* a) { static_cast<Adapter*>(a)->reading = false; };
    c->ev.addWrite = [](void* a) { static_cast<Adapter*>(a)->writing = true, static_cast<Adapter*>(a)->arm(false); };
    c->ev.delWrite = [](void* a) { static_cast<Adapter*>(a)->writing = false; };
    c->ev.cleanup = [](void* a) { static_cast<Adapter*>(a)->cleanup(); };
    redisAsyncSetConnectCallback(c, on_connect);
    redisAsyncSetDisconnectCallback(c, on_disconnect);
    // The connection is up once Redis has answered everything the handshake
    // sent: a port that accepts but never answers (a stopped Redis) is down.
    handshake_left_ = handshake_.size() + 1;
    for (const auto& command : handshake_) send(command, on_handshake_reply, this);
    send({"PING"}, on_handshake_reply, this);
    connect_timer_.expires_after(timeout_);
    connect_timer_.async_wait([this, c](const boost::system::error_code& ec) {
        if (!ec && state_ == State::connecting && context_ == c) drop("no answer to PING within " + std::to_string(timeout_.count()) + " ms");
    });
}

void RedisConnection::drop(const std::string& why) {
    // Callbacks see context_ no longer theirs and leave the bookkeeping to lost().
    if (redisAsyncContext* c = std::exchange(context_, nullptr)) redisAsyncFree(c);
    lost(why);
}

void RedisConnection::lost(const std::string& why) {
    context_ = nullptr;
    adapter_.reset();
    state_ = State::down;
    last_error_ = why;
    next_attempt_ = Clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(500));
    connect_timer_.cancel();
    notify_waiters();
}

void RedisConnection::notify_waiters() {
    for (auto* timer : waiters_) timer->cancel();
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<RedisConnection*>(ac->data);
    if (status != REDIS_OK && self->context_ == ac) self->lost(ac->errstr);  // hiredis frees the context next
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<RedisConnection*>(ac->data);
    if (self->context_ != ac) return;
    self->lost(!self->closing_reason_.empty() ? std::exchange(self->closing_reason_, "") : status == REDIS_OK ? "Redis closed the connection" : ac->errstr);
}

void RedisConnection::on_handshake_reply(redisAsyncContext* ac, void* reply, void* privdata) {
    auto* self = static_cast<RedisConnection*>(privdata);
    if (reply == nullptr || self->context_ != ac) return;  // the connection is going away
    const auto* r = static_cast<const redisReply*>(reply);
    if (r->type == REDIS_REPLY_ERROR) {  // e.g. a DB index Redis does not have
        self->closing_reason_ = std::string(r->str, r->len);
        redisAsyncDisconnect(ac);  // freeing it here, inside hiredis, is not allowed
        return;
    }
    if (--self->handshake_left_ == 0) {
        self->state_ = State::up;
        self->backoff_ = std::chrono::milliseconds(50);
        self->connect_timer_.cancel();
        self->notify_waiters();
    }
}

void RedisConnection::on_reply(redisAsyncContext*, void* reply, void* privdata) {
    const std::unique_ptr<std::shared_ptr<Pending>> owner(static_cast<std::shared_ptr<Pending>*>(privdata));
    Pending& p = **owner;
    const auto* r = static_cast<const redisReply*>(reply);
    if (r == nullptr) {
        p.error = "the connection was lost before Redis replied";
    } else if (r->type == REDIS_REPLY_ERROR) {
        p.error = std::string(r->str, r->len);
    } else {
        p.reply = to_json(r);
    }
    p.done = true;
    p.timer.cancel();
}

bool RedisConnection::send(const std::vector<std::string>& args, void (*callback)(redisAsyncContext*, void*, void*), void* privdata) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    return redisAsyncCommandArgv(context_, callback, privdata, static_cast<int>(args.size()), argv.data(), lengths.data()) == REDIS_OK;
}

std::string RedisConnection::unavailable(const std::string& why) const { return "Redis at " + address_.url + " is unavailable: " + why; }

Task<Json> RedisConnection::call(std::vector<std::string> args) {
    if (state_ == State::down) {
        if (Clock::now() < next_attempt_) throw StoreUnavailable(unavailable(last_error_));
        connect();
    }
    boost::system::error_code ec;
    if (state_ == State::connecting) {
        asio::steady_timer wait(ioc_, timeout_);
        waiters_.push_back(&wait);
        const auto mine = std::prev(waiters_.end());
        co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        waiters_.erase(mine);
        if (state_ == State::connecting && ec == asio::error::operation_aborted) throw boost::system::system_error(ec);  // the caller gave up
        if (state_ == State::connecting) throw StoreUnavailable(unavailable("still connecting after " + std::to_string(timeout_.count()) + " ms"));
    }
    if (state_ != State::up) throw StoreUnavailable(unavailable(last_error_));  // e.g. the connection failed at once (no descriptor left)
    auto pending = std::make_shared<Pending>(ioc_);
    pending->timer.expires_after(timeout_);
    auto* privdata = new std::shared_ptr<Pending>(pending);
    if (!send(args, on_reply, privdata)) {
        delete privdata;
        throw StoreUnavailable(unavailable("the connection is closing"));
    }
    co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!pending->done) {
        if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);  // the caller gave up
        // A Redis that stops answering must not hold every request for the
        // timeout: the connection goes down and calls fail at once until it is back.
        drop("no reply within " + std::to_string(timeout_.count()) + " ms");
        throw StoreUnavailable(unavailable(last_error_));
    }
    if (!pending->error.empty()) throw StoreUnavailable(unavailable(pending->error));
    co_return std::move(pending->reply);
}

Task<RedisConnection*> RedisConnections::here() {
    auto executor = co_await asio::this_coro::executor;
    auto& ioc = static_cast<asio::io_context&>(asio::query(executor, asio::execution::context));
    std::lock_guard lock(mutex_);
    auto& c = connections_[&ioc];
    if (!c) c = std::make_unique<RedisConnection>(ioc, address_, timeout_, handshake_);
    co_return c.get();
}

void RedisConnections::close() {
    std::lock_guard lock(mutex_);
    connections_.clear();
}

}  // namespace hiro::server
