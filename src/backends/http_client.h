#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

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

// The ways a request can fail, so that callers can retry, escalate or report.
enum class HttpFailure { none, refused, timeout, dropped, cancelled };

struct HttpResult {
    int status = 0;
    HttpFailure failure = HttpFailure::none;
    std::string error;           // what went wrong, for messages
    std::string retry_after;     // the Retry-After header, if any
    bool body_started = false;   // whether any body bytes reached the callback
};

// A keep-alive connection pool to one HTTP/1.1 server. send() blocks the
// calling thread (each connection runs its own io_context, so any thread may
// use any pooled connection) and feeds the body to `on_body` as it arrives,
// which is what streaming (SSE) needs. A stale pooled connection is replaced
// transparently. Thread-safe.
class HttpClient {
public:
    // For https, the server's certificate is verified against the system's
    // CAs, or against `ca_file` when given, and must name the URL's host.
    explicit HttpClient(HttpUrl url, std::string ca_file = {}, std::size_t max_idle = 64);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // `target` is appended to the URL's base path. `on_body` returning false
    // stops reading (the connection is then closed, not reused).
    HttpResult send(std::string_view method, std::string_view target, const std::vector<HttpHeader>& headers,
                    std::string_view body, const std::function<bool(std::string_view)>& on_body,
                    const HttpTimeouts& timeouts, std::stop_token stop);

    const HttpUrl& url() const { return url_; }

private:
    struct Connection;
    std::unique_ptr<Connection> checkout();
    void give_back(std::unique_ptr<Connection> connection);
    HttpResult attempt(Connection& c, bool fresh, std::string_view method, std::string_view target,
                       const std::vector<HttpHeader>& headers, std::string_view body,
                       const std::function<bool(std::string_view)>& on_body, const HttpTimeouts& timeouts,
                       std::stop_token stop, bool& reusable);

    HttpUrl url_;
    std::unique_ptr<boost::asio::ssl::context> tls_;  // configured only for https
    std::size_t max_idle_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace hiro::backends
