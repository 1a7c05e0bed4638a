#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "backends/task.h"
#include "core/error.h"

namespace hiro::backends {

// An http:// or https:// base URL split into what a connection needs.
struct HttpUrl {
    bool tls = false;
    std::string host;
    std::string port;
    std::string base_path;  // without a trailing slash, e.g. "/v1"

    // Throws an invalid_input core::Error naming the URL when it is not http[s]://HOST[:PORT][/PATH].
    static HttpUrl parse(std::string_view url);
};

struct HttpTimeouts {
    std::chrono::milliseconds connect{2000};
    std::chrono::milliseconds first_byte{30000};  // until the response headers arrive
    std::chrono::milliseconds idle{30000};        // between two pieces of the body
};

struct HttpHeader {
    std::string name;
    std::string value;
};

// Why a request got no complete answer, so that callers can retry, escalate
// or report. (A client that went away is not one of these: it arrives as a
// thrown operation_aborted.)
enum class HttpFailure { refused, timeout, dropped };

class HttpError : public core::Error {
public:
    HttpError(HttpFailure kind, const std::string& message) : core::Error(core::ErrorCode::upstream, message), kind_(kind) {}
    HttpFailure kind() const { return kind_; }

private:
    HttpFailure kind_;
};

struct HttpPoolLimits {
    std::size_t max_connections = 8192;  // open connections per I/O thread; more requests wait for one
    std::size_t max_idle = 256;          // kept-alive idle connections per I/O thread
};

class HttpClient;

// One response being read: its status and headers, then its body piece by
// piece as it arrives (what streaming needs). It holds its connection; once
// the body was read to the end the connection goes back to the pool, else it
// is closed. Lives on the I/O thread that opened it.
class HttpResponse {
public:
    struct Connection;
    struct Pool;
    HttpResponse(HttpClient& client, Pool& pool, std::unique_ptr<Connection> connection, HttpTimeouts timeouts);
    HttpResponse(HttpResponse&&) noexcept;
    ~HttpResponse();

    int status() const;
    std::string header(std::string_view name) const;
    // The next piece of the body; empty once it is complete. Throws HttpError.
    Task<std::string_view> read_some();
    // The rest of the body, at most `limit` bytes (more is an HttpError).
    Task<std::string> read_all(std::size_t limit);

private:
    friend class HttpClient;
    Task<void> read_header();

    HttpClient* client_;
    Pool* pool_;
    std::unique_ptr<Connection> connection_;
    HttpTimeouts timeouts_;
    std::unique_ptr<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
    bool complete_ = false;
};

// Keep-alive HTTP/1.1 connections to one server, fully asynchronous: connect,
// TLS handshake, write and read are Asio operations on the calling
// coroutine's I/O thread, and time-outs are timers, so no thread ever blocks
// on a socket. Connections are pooled per I/O thread (an io_context run by one
// thread), so a pooled connection is only ever touched by that thread and the
// pools need no locks. A kept-alive connection the server has closed is
// replaced transparently. Thread-safe.
class HttpClient {
public:
    // For https, the server's certificate is verified against the system's
    // CAs, or against `ca_file` when given, and must name the URL's host.
    HttpClient(HttpUrl url, std::string ca_file = {}, HttpPoolLimits limits = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends a request (`target` is appended to the URL's base path) and
    // reads the response's head. Throws HttpError.
    Task<HttpResponse> send(std::string_view method, std::string_view target, const std::vector<HttpHeader>& headers,
                            std::string body, HttpTimeouts timeouts);

    const HttpUrl& url() const { return url_; }
    std::string where() const { return url_.host + ":" + url_.port; }

private:
    friend class HttpResponse;
    Task<std::unique_ptr<HttpResponse::Connection>> connect(HttpResponse::Pool& pool, const HttpTimeouts& timeouts);

    HttpUrl url_;
    std::unique_ptr<boost::asio::ssl::context> tls_;  // configured only for https
    HttpPoolLimits limits_;
    std::uint64_t id_;  // its pools' key on every io_context
};

}  // namespace hiro::backends
