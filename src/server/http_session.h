#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "server/gateway.h"

namespace hiro::server {

// Starts one client connection (HTTP/1.1, keep-alive) as a coroutine on its
// socket's I/O thread: read a request within the size limits, let the gateway answer it
// (whole responses or chunked Server-Sent Events written as they come), and
// meanwhile watch the socket, so that a client that goes away cancels its
// request, and with it whatever the request awaits (an upstream read, a local
// decode, a retry's backoff).
void start_connection(boost::asio::ip::tcp::socket socket, Gateway& gateway);

}  // namespace hiro::server
