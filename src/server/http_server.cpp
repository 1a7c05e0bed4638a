#include "server/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/error.h"
#include "server/http_session.h"

namespace hiro::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Each stream holds a client socket and an upstream socket: take every file
// descriptor the system allows this process, as nginx's worker_rlimit_nofile.
void raise_descriptor_limit(int max_inflight) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    const auto needed = static_cast<rlim_t>(2 * max_inflight + 64);
    if (limit.rlim_cur < needed) {
        spdlog::warn("this process may open {} files, but {} requests in flight (limits.max_inflight) can need {}: raise the hard limit "
                     "(ulimit -Hn) or lower max_inflight",
                     limit.rlim_cur, max_inflight, needed);
    }
}

int thread_count(int configured) {
    if (configured > 0) return configured;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

HttpServer::HttpServer(Gateway& gateway)
    : gateway_(gateway),
      contexts_([&] {
          std::vector<std::unique_ptr<asio::io_context>> c;
          for (int i = 0; i < thread_count(gateway.config().io_threads); ++i) c.push_back(std::make_unique<asio::io_context>(1));
          return c;
      }()),
      signals_(*contexts_[0], SIGTERM, SIGINT),
      drain_timer_(*contexts_[0]) {
    const auto& c = gateway.config();
    raise_descriptor_limit(c.max_inflight);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(c.host, ec);
    if (ec) throw core::Error(core::ErrorCode::invalid_input, "listen: '" + c.host + "' is not an IP address");
    tcp::endpoint endpoint(address, c.port);
    for (auto& context : contexts_) {
        auto acceptor = std::make_unique<tcp::acceptor>(*context);
        acceptor->open(endpoint.protocol());
        acceptor->set_option(asio::socket_base::reuse_address(true));
        acceptor->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
        acceptor->bind(endpoint, ec);
        if (ec) throw core::Error(core::ErrorCode::io, "cannot listen on " + c.host + ":" + std::to_string(c.port) + ": " + ec.message());
        acceptor->listen(asio::socket_base::max_listen_connections);
        endpoint = acceptor->local_endpoint();  // port 0: the others take the port the first was given
        acceptors_.push_back(std::move(acceptor));
    }
}

// The contexts go before the gateway: requests still in them are destroyed
// while the tiers and pools they refer to exist.
HttpServer::~HttpServer() = default;

unsigned short HttpServer::port() const { return acceptors_[0]->local_endpoint().port(); }

Task<void> HttpServer::accept(tcp::acceptor& acceptor) {
    while (acceptor.is_open()) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        if (ec) {
            // Out of file descriptors, typically: wait a moment rather than spin.
            spdlog::warn("accepting a connection failed: {}", ec.message());
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::use_awaitable);
            continue;
        }
        socket.set_option(tcp::no_delay(true));
        start_connection(std::move(socket), gateway_);
    }
}

void HttpServer::drain() {
    if (gateway_.inflight() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
        if (gateway_.inflight() > 0) spdlog::warn("drain timeout: {} requests were still in flight", gateway_.inflight());
        asio::co_spawn(*contexts_[0], gateway_.save_learners(), [this](std::exception_ptr) {
            for (auto& c : contexts_) c->stop();
        });
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
        // Each acceptor is closed on its own thread.
        for (auto& acceptor : acceptors_) {
            asio::post(acceptor->get_executor(), [&acceptor] {
                boost::system::error_code ignored;
                acceptor->close(ignored);
            });
        }
        drain_deadline_ = std::chrono::steady_clock::now() + gateway_.config().drain_timeout;
        drain();
    });
    for (auto& acceptor : acceptors_) asio::co_spawn(acceptor->get_executor(), accept(*acceptor), asio::detached);
    gateway_.start(contexts_[0]->get_executor());
    spdlog::info("hiro serving on http://{}:{} with {} I/O threads", gateway_.config().host, port(), contexts_.size());
    std::vector<std::thread> threads;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
    for (auto& c : contexts_) work.push_back(asio::make_work_guard(*c));
    for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([this, i] { contexts_[i]->run(); });
    contexts_[0]->run();
    for (auto& t : threads) t.join();
    gateway_.stop();
}

}  // namespace hiro::server
