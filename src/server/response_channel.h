#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace hiro::server {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Where a request's answer goes: the client connection, seen from the worker
// thread that computes the answer. All calls are thread-safe and return at
// once (writes are queued on the connection); `disconnected` is requested when
// the client goes away, which cancels the generation.
class ResponseChannel {
public:
    virtual ~ResponseChannel() = default;
    virtual void respond(int status, Headers headers, std::string body) = 0;
    virtual void start_stream(Headers headers) = 0;          // 200, text/event-stream
    virtual void send_event(const std::string& data) = 0;   // one "data: ..." event
    virtual void end_stream() = 0;
    virtual std::stop_token disconnected() const = 0;
    virtual int status() const = 0;  // the HTTP status sent, 0 before any
    // `fn` runs once the response has been written out, or the client is gone
    // (so that a draining server waits for delivery, not just for the answer).
    virtual void when_delivered(std::function<void()> fn) = 0;
};

}  // namespace hiro::server
