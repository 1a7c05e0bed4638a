#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <deque>
#include <memory>
#include <optional>

#include "server/gateway.h"

namespace hiro::server {

// One client connection (HTTP/1.1, keep-alive), all of whose work runs on the
// connection's strand: read a request within the size limits, hand it to the
// gateway, write back what the gateway's workers produce (whole responses or
// chunked Server-Sent Events), and watch the socket meanwhile so that a client
// that goes away cancels its request.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(boost::asio::ip::tcp::socket&& socket, Gateway& gateway);
    void start();

    // For the per-request channel (any thread).
    void post_write(std::string bytes, bool finishes_response);

private:
    class Channel;
    void read_request();
    void on_read(boost::beast::error_code ec);
    void reject(int status, const std::string& message, const std::string& code);
    void write_next();
    void watch_for_disconnect();
    void close();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    Gateway& gateway_;
    std::deque<std::pair<std::string, bool>> writes_;  // bytes, and whether they end a response
    bool writing_ = false;
    bool keep_alive_ = true;
    bool busy_ = false;  // a request is being answered
    std::shared_ptr<Channel> channel_;
};

}  // namespace hiro::server
