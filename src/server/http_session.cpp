#include "server/http_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "backends/deadline.h"
#include "core/openai_response.h"

namespace hiro::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto with_error = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds keep_alive_idle{60};  // a kept-alive connection with no request is closed after this
constexpr std::chrono::seconds write_stall{60};      // a client that reads nothing for this long is gone

std::string header_block(int status, const Headers& headers, std::initializer_list<std::pair<std::string_view, std::string_view>> fixed) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, std::string(http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)))));
    for (const auto& [k, v] : fixed) {
        if (!v.empty()) out += fmt::format("{}: {}\r\n", k, v);
    }
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    return out + "\r\n";
}

// The connection as the gateway writes to it. A failed write marks it broken
// (the client is gone); the session then closes it.
class ClientConnection final : public ClientStream {
public:
    ClientConnection(tcp::socket& socket, backends::Deadline& deadline, bool keep_alive)
        : socket_(socket), deadline_(deadline), keep_alive_(keep_alive) {}

    Task<void> respond(int status, const Headers& headers, std::string body) override {
        status_ = status;
        bool typed = false;
        for (const auto& h : headers) typed = typed || h.first == "content-type";
        const std::string length = std::to_string(body.size());
        std::string head = header_block(status, headers, {{"content-length", length},
                                                          {"connection", keep_alive_ ? "keep-alive" : "close"},
                                                          {"content-type", typed ? "" : "application/json"}});
        co_await write(std::array{asio::buffer(head), asio::buffer(body)});
    }

    Task<void> start_stream(const Headers& headers) override {
        status_ = 200;
        const std::string head = header_block(200, headers, {{"content-type", "text/event-stream"},
                                                             {"cache-control", "no-cache"},
                                                             {"transfer-encoding", "chunked"},
                                                             {"connection", keep_alive_ ? "keep-alive" : "close"}});
        co_await write(std::array{asio::buffer(head)});
    }

    Task<void> send_event(std::string_view data) override {
        // One HTTP chunk per event: "data: ...\n\n".
        const std::string size = fmt::format("{:x}\r\ndata: ", data.size() + 8);
        co_await write(std::array{asio::buffer(size), asio::buffer(data.data(), data.size()), asio::buffer("\n\n\r\n", 4)});
    }

    Task<void> end_stream() override { co_await write(std::array{asio::buffer("0\r\n\r\n", 5)}); }

    int status() const override { return status_; }
    bool broken() const { return broken_; }

private:
    template <class Buffers>
    Task<void> write(const Buffers& buffers) {
        deadline_.arm(write_stall);
        auto [ec, n] = co_await asio::async_write(socket_, buffers, with_error);
        deadline_.disarm();
        if (ec) {
            broken_ = true;
            throw boost::system::system_error(ec);
        }
    }

    tcp::socket& socket_;
    backends::Deadline& deadline_;
    bool keep_alive_;
    int status_ = 0;
    bool broken_ = false;
};

// The gateway's answer; whatever goes wrong stays here (a write to a gone
// client, a bug), and the connection is closed after it.
Task<void> answer(Gateway& gateway, const GatewayRequest& request, ClientConnection& client) {
    try {
        co_await gateway.handle(request, client);
    } catch (const boost::system::system_error& e) {
        if (!client.broken() && e.code() != asio::error::operation_aborted) spdlog::error("request {} {}: {}", request.method, request.target, e.what());
    } catch (const std::exception& e) {
        spdlog::error("request {} {} failed inside hiro: {}", request.method, request.target, e.what());
    }
}

Task<void> reject(tcp::socket& socket, backends::Deadline& deadline, int status, const std::string& message, const std::string& code) {
    ClientConnection client(socket, deadline, false);
    co_await client.respond(status, {}, core::openai_error(message, "invalid_request_error", code).dump());
}

}  // namespace

namespace {

// A connection as its coroutine and the watch on its socket share it.
struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)), deadline(socket) {}
    tcp::socket socket;
    backends::Deadline deadline;  // the keep-alive wait for the next request, a write the client does not read
    asio::cancellation_signal gone;  // cancels whatever the connection's coroutine awaits
    bool answering = false;
    bool watching = false;
    bool client_gone = false;
};

// Notices a client that closes its side while its request is answered, and
// cancels the request. A plain wait on the socket rather than a second
// coroutine: it costs nothing until the socket turns readable, which, on a
// kept-alive connection, is when the next request arrives.
void watch(const std::shared_ptr<Connection>& c) {
    if (c->watching) return;
    c->watching = true;
    c->socket.async_wait(tcp::socket::wait_read, [c](beast::error_code ec) {
        c->watching = false;
        if (ec || !c->answering) return;
        char byte;
        const ssize_t n = ::recv(c->socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;  // the client sent its next request already: it is still there
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return watch(c);
        c->client_gone = true;
        c->gone.emit(asio::cancellation_type::terminal);
    });
}

Task<void> serve(std::shared_ptr<Connection> c, Gateway& gateway) {
    tcp::socket& socket = c->socket;
    backends::Deadline& deadline = c->deadline;
    beast::flat_buffer buffer;
    const auto& config = gateway.config();
    try {
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(config.max_body_bytes);
            parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
            deadline.arm(keep_alive_idle);
            auto [ec, n] = co_await http::async_read(socket, buffer, parser, with_error);
            deadline.disarm();
            if (ec == http::error::body_limit) {
                co_await reject(socket, deadline, 413, fmt::format("the request body is larger than the limit of {} bytes (limits.max_body_bytes)", config.max_body_bytes),
                                "body_too_large");
                break;
            }
            if (ec == http::error::header_limit) {
                co_await reject(socket, deadline, 431, fmt::format("the request headers are larger than the limit of {} bytes (limits.max_header_bytes)",
                                                         config.max_header_bytes),
                                "headers_too_large");
                break;
            }
            if (ec == http::error::end_of_stream || deadline.expired() || ec == asio::error::operation_aborted ||
                ec == asio::error::connection_reset || ec == asio::error::eof) {
                break;
            }
            if (ec) {
                co_await reject(socket, deadline, 400, "malformed HTTP request: " + ec.message(), "bad_request");
                break;
            }
            auto& req = parser.get();
            const bool keep_alive = req.keep_alive();
            const GatewayRequest request{std::string(req.method_string()), std::string(req.target()), std::string(req[http::field::authorization]),
                                         std::string(req[http::field::origin]), std::string(req[http::field::access_control_request_headers]),
                                         std::string(req["x-hiro-deadline-ms"]), std::move(req.body())};
            ClientConnection client(socket, deadline, keep_alive);
            c->answering = true;
            watch(c);
            co_await answer(gateway, request, client);
            c->answering = false;
            if (c->client_gone || client.broken()) {
                gateway.metrics().add("hiro_client_disconnects_total", {});
                break;
            }
            if (!keep_alive) break;
        }
    } catch (const boost::system::system_error&) {
        // The connection failed under a write of ours, or its client went away: nothing more can reach it.
    }
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
}

}  // namespace

void start_connection(tcp::socket socket, Gateway& gateway) {
    auto c = std::make_shared<Connection>(std::move(socket));
    auto executor = c->socket.get_executor();
    auto slot = c->gone.slot();
    asio::co_spawn(executor, serve(std::move(c), gateway), asio::bind_cancellation_slot(slot, asio::detached));
}

}  // namespace hiro::server
