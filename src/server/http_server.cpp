#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <csignal>
#include <thread>

#include "core/error.h"
#include "server/http_session.h"

namespace hiro::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

HttpServer::HttpServer(Gateway& gateway)
    : gateway_(gateway), strand_(ioc_.get_executor()), acceptor_(strand_), signals_(strand_, SIGTERM, SIGINT), drain_timer_(strand_) {
    const auto& c = gateway.config();
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(c.host, ec);
    if (ec) throw core::Error(core::ErrorCode::invalid_input, "listen: '" + c.host + "' is not an IP address");
    const tcp::endpoint endpoint(address, c.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint, ec);
    if (ec) throw core::Error(core::ErrorCode::io, "cannot listen on " + c.host + ":" + std::to_string(c.port) + ": " + ec.message());
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

unsigned short HttpServer::port() const { return acceptor_.local_endpoint().port(); }

void HttpServer::accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (acceptor_.is_open()) accept();
            return;
        }
        socket.set_option(tcp::no_delay(true));
        std::make_shared<HttpSession>(std::move(socket), gateway_)->start();
        accept();
    });
}

void HttpServer::drain() {
    if (gateway_.inflight() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
        if (gateway_.inflight() > 0) spdlog::warn("drain timeout: {} requests were still in flight", gateway_.inflight());
        ioc_.stop();
        return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(20));
    drain_timer_.async_wait([this](boost::system::error_code) { drain(); });
}

void HttpServer::run() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (ec) return;
        spdlog::info("{}: draining {} requests in flight, then exiting", signal == SIGTERM ? "SIGTERM" : "SIGINT", gateway_.inflight());
        gateway_.start_draining();
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        drain_deadline_ = std::chrono::steady_clock::now() + gateway_.config().drain_timeout;
        drain();
    });
    accept();
    spdlog::info("hiro serving on http://{}:{} with {} I/O threads and {} workers", gateway_.config().host, port(),
                 gateway_.config().io_threads, gateway_.config().workers);
    std::vector<std::thread> threads;
    for (int i = 1; i < gateway_.config().io_threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
}

}  // namespace hiro::server
