#include "backends/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>

#include "core/error.h"

namespace hiro::backends {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpUrl HttpUrl::parse(std::string_view url) {
    const std::string_view scheme = "http://";
    auto bad = [&](const std::string& why) {
        return core::Error(core::ErrorCode::invalid_input, "base URL '" + std::string(url) + "' " + why);
    };
    if (url.substr(0, 8) == "https://") throw bad("uses https, which this build of hiro does not speak yet; put a TLS-terminating proxy in front");
    if (url.substr(0, scheme.size()) != scheme) throw bad("must start with http://");
    std::string_view rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    HttpUrl out;
    out.base_path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
        out.host = std::string(authority.substr(0, colon));
        out.port = std::string(authority.substr(colon + 1));
    } else {
        out.host = std::string(authority);
        out.port = "80";
    }
    if (out.host.empty()) throw bad("has no host");
    if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) throw bad("has a bad port");
    return out;
}

struct HttpClient::Connection {
    asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;
};

namespace {

// Runs one asynchronous operation on the connection's own io_context until it
// completes; a stop request cancels it.
template <class Start>
beast::error_code run(asio::io_context& ioc, beast::tcp_stream& stream, std::stop_token stop, Start start) {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
        result = ec;
        done = true;
    });
    std::stop_callback on_stop(stop, [&] { asio::post(ioc, [&] { stream.cancel(); }); });
    ioc.restart();
    while (!done && ioc.run_one() > 0) {
    }
    return result;
}

HttpFailure failure_of(const beast::error_code& ec, std::stop_token stop) {
    if (stop.stop_requested()) return HttpFailure::cancelled;
    if (ec == beast::error::timeout) return HttpFailure::timeout;
    if (ec == asio::error::connection_refused) return HttpFailure::refused;
    return HttpFailure::dropped;
}

}  // namespace

HttpClient::HttpClient(HttpUrl url, std::size_t max_idle) : url_(std::move(url)), max_idle_(max_idle) {}
HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Connection> HttpClient::checkout() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
}

void HttpClient::give_back(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(connection));
}

HttpResult HttpClient::send(std::string_view method, std::string_view target, const std::vector<HttpHeader>& headers,
                            std::string_view body, const std::function<bool(std::string_view)>& on_body,
                            const HttpTimeouts& timeouts, std::stop_token stop) {
    // A pooled connection the server has closed meanwhile fails before any
    // response byte: then one fresh connection is tried.
    for (int tries = 0; tries < 2; ++tries) {
        auto c = checkout();
        const bool fresh = c == nullptr;
        if (fresh) c = std::make_unique<Connection>();
        bool reusable = false;
        HttpResult r = attempt(*c, fresh, method, target, headers, body, on_body, timeouts, stop, reusable);
        if (reusable) give_back(std::move(c));
        const bool stale = !fresh && r.status == 0 && r.failure == HttpFailure::dropped;
        if (!stale) return r;
    }
    return {0, HttpFailure::dropped, "the connection was closed twice before an answer", "", false};
}

HttpResult HttpClient::attempt(Connection& c, bool fresh, std::string_view method, std::string_view target,
                               const std::vector<HttpHeader>& headers, std::string_view body,
                               const std::function<bool(std::string_view)>& on_body, const HttpTimeouts& timeouts,
                               std::stop_token stop, bool& reusable) {
    HttpResult result;
    auto fail = [&](const beast::error_code& ec, const char* during) {
        result.failure = failure_of(ec, stop);
        result.error = std::string(during) + " " + url_.host + ":" + url_.port + ": " +
                       (result.failure == HttpFailure::timeout ? "timed out" : ec.message());
        return result;
    };
    beast::error_code ec;
    if (fresh) {
        tcp::resolver resolver(c.ioc);
        auto endpoints = resolver.resolve(url_.host, url_.port, ec);
        if (ec) return fail(ec, "resolving");
        c.stream.expires_after(timeouts.connect);
        ec = run(c.ioc, c.stream, stop, [&](auto handler) { c.stream.async_connect(endpoints, handler); });
        if (ec) return fail(ec, "connecting to");
        c.stream.socket().set_option(tcp::no_delay(true));
    }

    http::request<http::string_body> req{http::string_to_verb(beast::string_view(method.data(), method.size())),
                                         url_.base_path + std::string(target), 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.set(http::field::user_agent, "hiro");
    for (const auto& h : headers) req.set(beast::string_view(h.name), h.value);
    req.body() = std::string(body);
    req.prepare_payload();
    req.keep_alive(true);

    c.stream.expires_after(timeouts.first_byte);
    ec = run(c.ioc, c.stream, stop, [&](auto handler) { http::async_write(c.stream, req, handler); });
    if (ec) return fail(ec, "sending to");

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::uint64_t{1} << 40);  // answers stream for as long as they take
    ec = run(c.ioc, c.stream, stop, [&](auto handler) { http::async_read_header(c.stream, c.buffer, parser, handler); });
    if (ec) return fail(ec, "reading the answer of");
    result.status = static_cast<int>(parser.get().result_int());
    if (auto it = parser.get().find(http::field::retry_after); it != parser.get().end()) result.retry_after = std::string(it->value());

    char chunk[16384];
    while (!parser.is_done()) {
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof chunk;
        c.stream.expires_after(timeouts.idle);
        // read_some: hand each piece on as it arrives (a stream's tokens), not when the buffer fills.
        ec = run(c.ioc, c.stream, stop, [&](auto handler) { http::async_read_some(c.stream, c.buffer, parser, handler); });
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = sizeof chunk - parser.get().body().size;
        if (got > 0) {
            result.body_started = true;
            if (!on_body(std::string_view(chunk, got))) {
                result.failure = HttpFailure::cancelled;
                result.error = "the reader stopped";
                return result;
            }
        }
        if (ec) return fail(ec, "reading the body from");
    }
    reusable = parser.get().keep_alive();
    return result;
}

}  // namespace hiro::backends
