#include "backends/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include "core/error.h"

namespace hiro::backends {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpUrl HttpUrl::parse(std::string_view url) {
    auto bad = [&](const std::string& why) {
        return core::Error(core::ErrorCode::invalid_input, "base URL '" + std::string(url) + "' " + why);
    };
    HttpUrl out;
    out.tls = url.substr(0, 8) == "https://";
    if (!out.tls && url.substr(0, 7) != "http://") throw bad("must start with http:// or https://");
    std::string_view rest = url.substr(out.tls ? 8 : 7);
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    out.base_path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
        out.host = std::string(authority.substr(0, colon));
        out.port = std::string(authority.substr(colon + 1));
    } else {
        out.host = std::string(authority);
        out.port = out.tls ? "443" : "80";
    }
    if (out.host.empty()) throw bad("has no host");
    if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) throw bad("has a bad port");
    return out;
}

// A connection owns its io_context so that whichever thread checks it out can
// run it. Plain http uses the TCP layer of `stream` only.
struct HttpClient::Connection {
    explicit Connection(asio::ssl::context& tls) : stream(ioc, tls) {}
    asio::io_context ioc;
    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream); }
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

HttpClient::HttpClient(HttpUrl url, std::string ca_file, std::size_t max_idle)
    : url_(std::move(url)), tls_(std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client)), max_idle_(max_idle) {
    if (!url_.tls) return;
    boost::system::error_code ec;
    if (ca_file.empty()) {
        tls_->set_default_verify_paths(ec);
    } else {
        tls_->load_verify_file(ca_file, ec);
    }
    if (ec) throw core::Error(core::ErrorCode::invalid_input, "cannot load CA certificates" + (ca_file.empty() ? "" : " from " + ca_file) + ": " + ec.message());
    tls_->set_verify_mode(asio::ssl::verify_peer);
}
HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Connection> HttpClient::checkout() {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        // A server may close a kept-alive connection at any time (llama-server
        // does after every streamed answer): skip the ones already closed.
        char byte;
        const ssize_t n = ::recv(c->tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return c;
    }
    return nullptr;
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
        auto c = tries == 0 ? checkout() : nullptr;
        const bool fresh = c == nullptr;
        if (fresh) c = std::make_unique<Connection>(*tls_);
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
    beast::tcp_stream& tcp = c.tcp();
    if (fresh) {
        tcp::resolver resolver(c.ioc);
        auto endpoints = resolver.resolve(url_.host, url_.port, ec);
        if (ec) return fail(ec, "resolving");
        tcp.expires_after(timeouts.connect);
        ec = run(c.ioc, tcp, stop, [&](auto handler) { tcp.async_connect(endpoints, handler); });
        if (ec) return fail(ec, "connecting to");
        tcp.socket().set_option(tcp::no_delay(true));
        if (url_.tls) {
            // SNI, and the certificate must name the host we asked for.
            SSL_set_tlsext_host_name(c.stream.native_handle(), url_.host.c_str());
            c.stream.set_verify_callback(asio::ssl::host_name_verification(url_.host));
            ec = run(c.ioc, tcp, stop, [&](auto handler) { c.stream.async_handshake(asio::ssl::stream_base::client, handler); });
            if (ec) return fail(ec, "the TLS handshake with");
        }
    }

    http::request<http::string_body> req{http::string_to_verb(beast::string_view(method.data(), method.size())),
                                         url_.base_path + std::string(target), 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.set(http::field::user_agent, "hiro");
    for (const auto& h : headers) req.set(beast::string_view(h.name), h.value);
    req.body() = std::string(body);
    req.prepare_payload();
    req.keep_alive(true);

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::uint64_t{1} << 40);  // answers stream for as long as they take
    // The same exchange over TLS or plain TCP.
    auto exchange = [&](auto& stream) -> bool {
        tcp.expires_after(timeouts.first_byte);
        ec = run(c.ioc, tcp, stop, [&](auto handler) { http::async_write(stream, req, handler); });
        if (ec) return fail(ec, "sending to"), false;
        ec = run(c.ioc, tcp, stop, [&](auto handler) { http::async_read_header(stream, c.buffer, parser, handler); });
        if (ec) return fail(ec, "reading the answer of"), false;
        result.status = static_cast<int>(parser.get().result_int());
        if (auto it = parser.get().find(http::field::retry_after); it != parser.get().end()) result.retry_after = std::string(it->value());

        char chunk[16384];
        while (!parser.is_done()) {
            parser.get().body().data = chunk;
            parser.get().body().size = sizeof chunk;
            tcp.expires_after(timeouts.idle);
            // read_some: hand each piece on as it arrives (a stream's tokens), not when the buffer fills.
            ec = run(c.ioc, tcp, stop, [&](auto handler) { http::async_read_some(stream, c.buffer, parser, handler); });
            if (ec == http::error::need_buffer) ec = {};
            const std::size_t got = sizeof chunk - parser.get().body().size;
            if (got > 0) {
                result.body_started = true;
                if (!on_body(std::string_view(chunk, got))) {
                    result.failure = HttpFailure::cancelled;
                    result.error = "the reader stopped";
                    return false;
                }
            }
            if (ec) return fail(ec, "reading the body from"), false;
        }
        return true;
    };
    if (!(url_.tls ? exchange(c.stream) : exchange(tcp))) return result;
    // After a stop request a cancellation may still be queued on this connection.
    reusable = parser.get().keep_alive() && !stop.stop_requested();
    return result;
}

}  // namespace hiro::backends
