#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/gateway.h"

namespace hiro::server {

// Serves the configured address on N I/O threads, each with an io_context
// and a listening socket of its own (SO_REUSEPORT: the kernel spreads new
// connections over the threads, and a burst of ten thousand is accepted by
// all of them at once). A connection and the upstream connections it uses
// stay on one thread, so neither needs a lock. Runs until SIGTERM or SIGINT;
// then it stops accepting, lets the requests in flight finish (up to the
// drain timeout) and returns.
class HttpServer {
public:
    explicit HttpServer(Gateway& gateway);
    ~HttpServer();
    unsigned short port() const;  // the bound port (useful with listen port 0)
    void run();

private:
    Task<void> accept(boost::asio::ip::tcp::acceptor& acceptor);
    void drain();

    Gateway& gateway_;
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;  // [0] also handles signals
    std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;  // one per context
    boost::asio::signal_set signals_;
    boost::asio::steady_timer drain_timer_;
    std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace hiro::server
