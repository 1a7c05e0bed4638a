#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/task.h"

namespace hiro::server {

using backends::Task;
using Headers = std::vector<std::pair<std::string, std::string>>;

// Where a request's answer goes: the client's connection, written by the
// coroutine that answers the request. Each call returns once the bytes are
// handed to the socket; it throws when the client is gone.
class ClientStream {
public:
    virtual ~ClientStream() = default;
    virtual Task<void> respond(int status, const Headers& headers, std::string body) = 0;
    virtual Task<void> start_stream(const Headers& headers) = 0;  // 200, text/event-stream
    virtual Task<void> send_event(std::string_view data) = 0;     // one "data: ..." event
    virtual Task<void> end_stream() = 0;
    virtual int status() const = 0;  // the HTTP status sent, 0 before any
};

}  // namespace hiro::server
