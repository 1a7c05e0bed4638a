#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "server/gateway.h"

namespace hiro::server {

// Accepts connections on the configured address with N I/O threads and runs
// until SIGTERM or SIGINT; then it stops accepting, lets the requests in
// flight finish (up to the drain timeout) and returns.
class HttpServer {
public:
    explicit HttpServer(Gateway& gateway);
    unsigned short port() const;  // the bound port (useful with listen port 0)
    void run();

private:
    void accept();
    void drain();

    Gateway& gateway_;
    boost::asio::io_context ioc_;
    // Accepting, signals and draining share one strand: the signal handler closes the acceptor.
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer drain_timer_;
    std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace hiro::server
