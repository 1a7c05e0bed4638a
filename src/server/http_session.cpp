#include "server/http_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/status.hpp>

#include "core/openai_protocol.h"

namespace hiro::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string header_block(int status, const Headers& headers, const std::vector<std::pair<std::string, std::string>>& fixed) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, std::string(http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)))));
    for (const auto& [k, v] : fixed) out += k + ": " + v + "\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    return out + "\r\n";
}

std::string chunk(const std::string& data) { return fmt::format("{:x}\r\n{}\r\n", data.size(), data); }

}  // namespace

// The per-request ResponseChannel: turns the gateway's calls into bytes on
// the connection, and carries the request's cancellation.
class HttpSession::Channel final : public ResponseChannel {
public:
    Channel(std::shared_ptr<HttpSession> session, bool keep_alive) : session_(std::move(session)), keep_alive_(keep_alive) {}

    void respond(int status, Headers headers, std::string body) override {
        if (started_.exchange(true)) {
            spdlog::error("a second response to one request was dropped (status {})", status);
            return;
        }
        status_ = status;
        bool typed = false;
        for (const auto& h : headers) typed = typed || h.first == "content-type";
        std::vector<std::pair<std::string, std::string>> fixed{{"content-length", std::to_string(body.size())},
                                                               {"connection", keep_alive_ ? "keep-alive" : "close"}};
        if (!typed) fixed.emplace_back("content-type", "application/json");
        session_->post_write(header_block(status, headers, fixed) + body, true);
    }

    void start_stream(Headers headers) override {
        if (started_.exchange(true)) {
            spdlog::error("a stream was started after a response was sent");
            return;
        }
        status_ = 200;
        streaming_ = true;
        session_->post_write(header_block(200, headers, {{"content-type", "text/event-stream"},
                                                         {"cache-control", "no-cache"},
                                                         {"transfer-encoding", "chunked"},
                                                         {"connection", keep_alive_ ? "keep-alive" : "close"}}),
                             false);
    }

    void send_event(const std::string& data) override {
        if (streaming_) session_->post_write(chunk("data: " + data + "\n\n"), false);
    }

    void end_stream() override {
        if (streaming_.exchange(false)) session_->post_write("0\r\n\r\n", true);
    }

    std::stop_token disconnected() const override { return stop_.get_token(); }
    int status() const override { return status_; }
    void when_delivered(std::function<void()> fn) override { on_delivered_ = std::move(fn); }
    void cancel() { stop_.request_stop(); }
    // Runs on the connection's strand when the last byte went out or the connection failed.
    void delivered() {
        if (on_delivered_ && !delivered_.exchange(true)) on_delivered_();
    }

private:
    std::shared_ptr<HttpSession> session_;
    bool keep_alive_;
    std::stop_source stop_;
    std::atomic<bool> started_{false};
    std::atomic<bool> streaming_{false};
    std::atomic<int> status_{0};
    std::function<void()> on_delivered_;
    std::atomic<bool> delivered_{false};
};

HttpSession::HttpSession(tcp::socket&& socket, Gateway& gateway) : stream_(std::move(socket)), gateway_(gateway) {}

void HttpSession::start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
}

void HttpSession::read_request() {
    parser_.emplace();
    parser_->body_limit(gateway_.config().max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(gateway_.config().max_header_bytes));
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void HttpSession::on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) return close();
    if (ec == http::error::body_limit) {
        return reject(413, fmt::format("the request body is larger than the limit of {} bytes (limits.max_body_bytes)",
                                       gateway_.config().max_body_bytes),
                      "body_too_large");
    }
    if (ec == http::error::header_limit) {
        return reject(431, fmt::format("the request headers are larger than the limit of {} bytes (limits.max_header_bytes)",
                                       gateway_.config().max_header_bytes),
                      "headers_too_large");
    }
    if (ec) return reject(400, "malformed HTTP request: " + ec.message(), "bad_request");

    stream_.expires_never();  // generation may take long; a gone client is noticed by the watch
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    GatewayRequest request{std::string(req.method_string()), std::string(req.target()), std::string(req[http::field::authorization]),
                           std::move(req.body())};
    busy_ = true;
    channel_ = std::make_shared<Channel>(shared_from_this(), keep_alive_);
    gateway_.handle(request, channel_);
    watch_for_disconnect();
}

void HttpSession::watch_for_disconnect() {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), channel = channel_](beast::error_code ec) {
        if (ec || !self->busy_ || channel != self->channel_) return;
        // The reactor may report a readiness that a read already consumed, so
        // ask the socket itself: 0 bytes means the client closed its side.
        char byte;
        const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            channel->cancel();
            channel->delivered();  // nothing more can reach this client
        } else if (n < 0) {
            self->watch_for_disconnect();  // nothing there after all: keep watching
        }
        // n > 0: the client sent its next request already; it is still there.
    });
}

void HttpSession::reject(int status, const std::string& message, const std::string& code) {
    keep_alive_ = false;
    busy_ = true;
    channel_ = std::make_shared<Channel>(shared_from_this(), false);
    channel_->respond(status, {}, core::openai_error(message, "invalid_request_error", code).dump());
}

void HttpSession::post_write(std::string bytes, bool finishes_response) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), bytes = std::move(bytes), finishes_response]() mutable {
        self->writes_.emplace_back(std::move(bytes), finishes_response);
        if (!self->writing_) self->write_next();
    });
}

void HttpSession::write_next() {
    if (writes_.empty()) {
        writing_ = false;
        return;
    }
    writing_ = true;
    asio::async_write(stream_, asio::buffer(writes_.front().first), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        const bool finished = self->writes_.front().second;
        self->writes_.pop_front();
        if (ec) {
            if (self->channel_) {
                self->channel_->cancel();  // the client is gone: stop generating for it
                self->channel_->delivered();
            }
            self->channel_.reset();
            self->writes_.clear();
            self->writing_ = false;
            return self->close();
        }
        if (finished) {
            self->busy_ = false;
            if (self->channel_) self->channel_->delivered();
            self->channel_.reset();
            beast::error_code ignored;
            self->stream_.socket().cancel(ignored);  // the disconnect watch
            if (!self->keep_alive_) {
                self->writing_ = false;
                return self->close();
            }
            self->read_request();
        }
        self->write_next();
    });
}

void HttpSession::close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
}

}  // namespace hiro::server
