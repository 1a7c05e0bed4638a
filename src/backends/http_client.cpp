#include "backends/http_client.h"

#include "backends/deadline.h"

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <deque>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace hiro::backends {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto with_error = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t piece_size = 4096;

}  // namespace

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

// The connections of one HttpClient on one I/O thread. `open` counts every
// connection alive (idle or in use); a Connection's destructor gives its slot
// back, so the count stays exact whatever path closes it.
struct HttpResponse::Pool {
    HttpPoolLimits limits;
    std::vector<std::unique_ptr<Connection>> idle;
    std::size_t open = 0;
    std::deque<asio::steady_timer*> waiting;  // requests waiting for a slot
    bool shut_down = false;

    void wake_one() {
        if (waiting.empty()) return;
        waiting.front()->cancel();
        waiting.pop_front();
    }
};

struct HttpResponse::Connection {
    Connection(Pool& pool, const asio::any_io_executor& ex, asio::ssl::context* tls)
        : pool(pool),
          plain(tls ? nullptr : std::make_unique<tcp::socket>(ex)),
          secure(tls ? std::make_unique<beast::ssl_stream<tcp::socket>>(ex, *tls) : nullptr),
          deadline(socket()) {
        buffer.reserve(piece_size);  // a typical answer's head and body arrive in one read, not in 512-byte ones
        ++pool.open;
    }
    ~Connection() {
        beast::error_code ignored;
        socket().close(ignored);
        --pool.open;
        pool.wake_one();
    }
    tcp::socket& socket() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    // A server may close a kept-alive connection at any time (llama-server
    // does after every streamed answer): an idle one with anything to read
    // (the close) is stale.
    bool still_open() {
        char byte;
        const ssize_t n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    // Runs the same operation over TLS or plain TCP.
    template <class Op>
    auto on_stream(Op op) {
        return secure ? op(*secure) : op(*plain);
    }

    Pool& pool;
    std::unique_ptr<tcp::socket> plain;
    std::unique_ptr<beast::ssl_stream<tcp::socket>> secure;
    Deadline deadline;  // connect, first byte and idle time-outs
    beast::flat_buffer buffer{1 << 20};
    std::array<char, piece_size> piece;  // where the body is read, piece by piece
};

namespace {

// The pools of every HttpClient used on one io_context, living as long as it:
// a coroutine destroyed with its io_context still finds its pool, and pooled
// sockets are closed while their io_context's services still exist.
class HttpPools final : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;
    explicit HttpPools(asio::execution_context& context) : asio::execution_context::service(context) {}

    HttpResponse::Pool& pool(std::uint64_t client, const HttpPoolLimits& limits) {
        auto& p = pools_[client];
        if (!p) {
            p = std::make_unique<HttpResponse::Pool>();
            p->limits = limits;
        }
        return *p;
    }

private:
    void shutdown() override {
        for (auto& [_, p] : pools_) {
            p->shut_down = true;
            p->idle.clear();
        }
    }
    std::unordered_map<std::uint64_t, std::unique_ptr<HttpResponse::Pool>> pools_;
};

std::uint64_t next_client_id() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}

}  // namespace

HttpResponse::HttpResponse(HttpClient& client, Pool& pool, std::unique_ptr<Connection> connection, HttpTimeouts timeouts)
    : client_(&client), pool_(&pool), connection_(std::move(connection)), timeouts_(timeouts) {}
HttpResponse::HttpResponse(HttpResponse&&) noexcept = default;

HttpResponse::~HttpResponse() {
    if (!connection_) return;
    Pool& pool = *pool_;
    const bool reusable = complete_ && parser_ && parser_->get().keep_alive() && !pool.shut_down;
    if (reusable && pool.idle.size() < pool.limits.max_idle) {
        pool.idle.push_back(std::move(connection_));
        pool.wake_one();
    }
    connection_.reset();
}

int HttpResponse::status() const { return static_cast<int>(parser_->get().result_int()); }

std::string HttpResponse::header(std::string_view name) const {
    const auto& head = parser_->get();
    auto it = head.find(beast::string_view(name.data(), name.size()));
    return it == head.end() ? std::string() : std::string(it->value());
}

namespace {

// An I/O error as an HttpError. (Awaiting it throws operation_aborted
// instead when the I/O failed because the caller was cancelled.)
Task<void> fail(const beast::error_code& ec, const char* during, const std::string& where, const Deadline& deadline) {
    const HttpFailure kind = deadline.expired()                         ? HttpFailure::timeout
                             : ec == asio::error::connection_refused   ? HttpFailure::refused
                                                                        : HttpFailure::dropped;
    throw HttpError(kind, std::string(during) + " " + where + ": " + (kind == HttpFailure::timeout ? "timed out" : ec.message()));
}

}  // namespace

Task<void> HttpResponse::read_header() {
    auto& c = *connection_;
    parser_ = std::make_unique<http::response_parser<http::buffer_body>>();
    parser_->body_limit(boost::none);  // answers stream for as long as they take
    parser_->header_limit(64 * 1024);
    c.deadline.arm(timeouts_.first_byte);
    auto [ec, n] = co_await c.on_stream([&](auto& s) { return http::async_read_header(s, c.buffer, *parser_, with_error); });
    c.deadline.disarm();
    if (ec) co_await fail(ec, "reading the answer of", client_->where(), c.deadline);
    if (parser_->is_done()) complete_ = true;  // a response without a body
}

Task<std::string_view> HttpResponse::read_some() {
    auto& c = *connection_;
    while (!parser_->is_done()) {
        parser_->get().body().data = c.piece.data();
        parser_->get().body().size = piece_size;
        c.deadline.arm(timeouts_.idle);
        auto [ec, n] = co_await c.on_stream([&](auto& s) { return http::async_read_some(s, c.buffer, *parser_, with_error); });
        c.deadline.disarm();
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = piece_size - parser_->get().body().size;
        if (ec) co_await fail(ec, "reading the body from", client_->where(), c.deadline);
        if (parser_->is_done()) complete_ = true;
        if (got > 0) co_return std::string_view(c.piece.data(), got);
    }
    complete_ = true;
    co_return std::string_view();
}

Task<std::string> HttpResponse::read_all(std::size_t limit) {
    std::string body;
    for (;;) {
        const std::string_view piece = co_await read_some();
        if (piece.empty()) co_return body;
        if (body.size() + piece.size() > limit) {
            throw HttpError(HttpFailure::dropped, "the answer of " + client_->where() + " is larger than " + std::to_string(limit) + " bytes");
        }
        body.append(piece);
    }
}

HttpClient::HttpClient(HttpUrl url, std::string ca_file, HttpPoolLimits limits)
    : url_(std::move(url)), limits_(limits), id_(next_client_id()) {
    if (!url_.tls) return;
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
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

Task<std::unique_ptr<HttpResponse::Connection>> HttpClient::connect(HttpResponse::Pool& pool, const HttpTimeouts& timeouts) {
    auto ex = co_await asio::this_coro::executor;
    const auto deadline = std::chrono::steady_clock::now() + timeouts.connect;
    while (pool.open >= pool.limits.max_connections) {
        asio::steady_timer wait(ex, deadline);
        pool.waiting.push_back(&wait);
        auto [ec] = co_await wait.async_wait(with_error);
        std::erase(pool.waiting, &wait);
        co_await check_cancelled();
        if (!ec) {
            throw HttpError(HttpFailure::timeout, "no connection to " + where() + " became free in time (max_connections " +
                                                      std::to_string(pool.limits.max_connections) + " per I/O thread)");
        }
    }
    auto c = std::make_unique<HttpResponse::Connection>(pool, ex, tls_.get());
    beast::error_code ec;
    std::vector<tcp::endpoint> endpoints;
    if (const auto address = asio::ip::make_address(url_.host, ec); !ec) {
        endpoints.emplace_back(address, static_cast<unsigned short>(std::stoi(url_.port)));
    } else {
        tcp::resolver resolver(ex);
        auto [rec, results] = co_await resolver.async_resolve(url_.host, url_.port, with_error);
        if (rec) co_await fail(rec, "resolving", where(), c->deadline);
        for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    c->deadline.arm(timeouts.connect);
    auto [cec, endpoint] = co_await asio::async_connect(c->socket(), endpoints, with_error);
    if (cec) co_await fail(cec, "connecting to", where(), c->deadline);
    c->socket().set_option(tcp::no_delay(true));
    if (c->secure) {
        // SNI, and the certificate must name the host we asked for.
        SSL_set_tlsext_host_name(c->secure->native_handle(), url_.host.c_str());
        c->secure->set_verify_callback(asio::ssl::host_name_verification(url_.host));
        auto [hec] = co_await c->secure->async_handshake(asio::ssl::stream_base::client, with_error);
        if (hec) co_await fail(hec, "the TLS handshake with", where(), c->deadline);
    }
    c->deadline.disarm();
    co_return c;
}

Task<HttpResponse> HttpClient::send(std::string_view method, std::string_view target, const std::vector<HttpHeader>& headers,
                                    std::string body, HttpTimeouts timeouts) {
    auto ex = co_await asio::this_coro::executor;
    auto& pool = asio::use_service<HttpPools>(asio::query(ex, asio::execution::context)).pool(id_, limits_);

    http::request<http::string_body> req{http::string_to_verb(beast::string_view(method.data(), method.size())),
                                         url_.base_path + std::string(target), 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.set(http::field::user_agent, "hiro");
    for (const auto& h : headers) req.set(beast::string_view(h.name), h.value);
    req.body() = std::move(body);
    req.prepare_payload();
    req.keep_alive(true);

    // A pooled connection the server has closed meanwhile fails before any
    // response byte: then the request goes out again on a fresh connection.
    for (bool fresh_only = false;; fresh_only = true) {
        std::unique_ptr<HttpResponse::Connection> c;
        while (!fresh_only && !c && !pool.idle.empty()) {
            c = std::move(pool.idle.back());
            pool.idle.pop_back();
            if (!c->still_open()) c.reset();
        }
        const bool reused = c != nullptr;
        if (!c) c = co_await connect(pool, timeouts);
        HttpResponse response(*this, pool, std::move(c), timeouts);
        auto& conn = *response.connection_;
        conn.deadline.arm(timeouts.first_byte);
        auto [wec, written] = co_await conn.on_stream([&](auto& s) { return http::async_write(s, req, with_error); });
        if (wec) {
            if (!reused) co_await fail(wec, "sending to", where(), conn.deadline);
            co_await check_cancelled();
            continue;
        }
        try {
            co_await response.read_header();
            co_return response;
        } catch (const HttpError& e) {
            if (!reused || e.kind() != HttpFailure::dropped) throw;
        }
    }
}

}  // namespace hiro::backends
