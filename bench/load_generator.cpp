// hiro_loadgen: a closed-loop HTTP load generator for the gateway benchmarks.
//   hiro_loadgen --url http://127.0.0.1:8000/v1/chat/completions --body FILE --requests 10000 --concurrency 8 [--stream]
// Each of --concurrency connections sends its share of requests one after
// another over keep-alive, reconnecting after a transport error. Connections
// are coroutines on --threads I/O threads, so ten thousand of them cost no
// more than their sockets. It reports every outcome: answers by HTTP status,
// streams that did not end in [DONE], and transport errors (never a silent
// loss), with latency (and, streaming, time to first event) percentiles and
// throughput, as a table or --json.
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto with_error = asio::as_tuple(asio::use_awaitable);

struct Target {
    std::string host, port, path;
};

Target parse_url(const std::string& url) {
    const std::string prefix = "http://";
    if (url.rfind(prefix, 0) != 0) throw std::runtime_error("--url must start with http://");
    const std::string rest = url.substr(prefix.size());
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    const auto colon = authority.rfind(':');
    return {authority.substr(0, colon), colon == std::string::npos ? "80" : authority.substr(colon + 1),
            slash == std::string::npos ? "/" : rest.substr(slash)};
}

// What the connections of one I/O thread measured; merged at the end.
struct Results {
    std::map<int, std::size_t> statuses;
    std::map<std::string, std::size_t> transport_errors;
    std::size_t unfinished_streams = 0;  // 200 streams that did not end in [DONE]
    std::vector<double> latencies_ms;    // of answered requests
    std::vector<double> first_event_ms;  // streams: until the first event arrived
    void merge(const Results& o) {
        for (auto [s, n] : o.statuses) statuses[s] += n;
        for (const auto& [e, n] : o.transport_errors) transport_errors[e] += n;
        unfinished_streams += o.unfinished_streams;
        latencies_ms.insert(latencies_ms.end(), o.latencies_ms.begin(), o.latencies_ms.end());
        first_event_ms.insert(first_event_ms.end(), o.first_event_ms.begin(), o.first_event_ms.end());
    }
};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

asio::awaitable<void> connection(tcp::endpoint endpoint, const http::request<http::string_body>& req, std::size_t count, bool stream,
                                 Results& results) {
    auto ex = co_await asio::this_coro::executor;
    std::optional<beast::tcp_stream> socket;
    beast::flat_buffer buffer;
    for (std::size_t i = 0; i < count; ++i) {
        const auto start = Clock::now();
        beast::error_code ec;
        if (!socket) {
            socket.emplace(ex);
            std::tie(ec) = co_await socket->socket().async_connect(endpoint, with_error);
            if (!ec) socket->socket().set_option(tcp::no_delay(true));
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(boost::none);
        std::optional<double> first_event;
        if (!ec) std::tie(ec, std::ignore) = co_await http::async_write(*socket, req, with_error);
        if (!ec) std::tie(ec, std::ignore) = co_await http::async_read_header(*socket, buffer, parser, with_error);
        while (!ec && !parser.is_done()) {
            std::tie(ec, std::ignore) = co_await http::async_read_some(*socket, buffer, parser, with_error);
            if (!first_event && !parser.get().body().empty()) first_event = ms_since(start);
        }
        if (ec) {
            ++results.transport_errors[ec.message()];
            socket.reset();
            buffer.clear();
            asio::steady_timer pause(ex, std::chrono::milliseconds(1));
            co_await pause.async_wait(asio::use_awaitable);
            continue;
        }
        const auto& res = parser.get();
        results.latencies_ms.push_back(ms_since(start));
        ++results.statuses[static_cast<int>(res.result_int())];
        if (stream && res.result_int() == 200) {
            if (first_event) results.first_event_ms.push_back(*first_event);
            if (res.body().find("data: [DONE]") == std::string::npos) ++results.unfinished_streams;
        }
        if (!res.keep_alive()) socket.reset();
    }
}

double percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0.0;
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"hiro_loadgen: closed-loop HTTP load with every outcome counted"};
    std::string url, body_file, json_out, label;
    std::size_t requests = 1000, concurrency = 8, threads = 1;
    bool stream = false;
    app.add_option("--url", url, "POST target, http://HOST:PORT/PATH")->required();
    app.add_option("--body", body_file, "file with the request body (JSON)")->required()->check(CLI::ExistingFile);
    app.add_option("--requests", requests, "total requests")->capture_default_str();
    app.add_option("--concurrency", concurrency, "connections sending at once")->capture_default_str();
    app.add_option("--threads", threads, "I/O threads of the load generator")->capture_default_str();
    app.add_flag("--stream", stream, "the answers are Server-Sent Events: time the first event and check each ends in [DONE]");
    app.add_option("--label", label, "name of this run in the output");
    app.add_option("--json", json_out, "append the results as one JSON line to this file");
    CLI11_PARSE(app, argc, argv);

    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur < concurrency + 64) {
            std::cerr << "hiro_loadgen: " << concurrency << " connections need more file descriptors than the " << limit.rlim_cur << " allowed\n";
            return 2;
        }
    }
    std::ifstream in(body_file);
    std::stringstream body;
    body << in.rdbuf();
    const Target target = parse_url(url);
    http::request<http::string_body> req{http::verb::post, target.path, 11};
    req.set(http::field::host, target.host);
    req.set(http::field::content_type, "application/json");
    req.body() = body.str();
    req.prepare_payload();
    asio::io_context resolver_context;
    const tcp::endpoint endpoint = *tcp::resolver(resolver_context).resolve(target.host, target.port).begin();

    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<Results> results(threads);
    for (std::size_t t = 0; t < threads; ++t) contexts.push_back(std::make_unique<asio::io_context>(1));
    for (std::size_t c = 0; c < concurrency; ++c) {
        const std::size_t share = requests / concurrency + (c < requests % concurrency ? 1 : 0);
        asio::co_spawn(*contexts[c % threads], connection(endpoint, req, share, stream, results[c % threads]), asio::detached);
    }
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back([&, t] { contexts[t]->run(); });
    for (auto& t : pool) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    Results all;
    for (const auto& r : results) all.merge(r);
    auto& lat = all.latencies_ms;
    auto& first = all.first_event_ms;
    std::sort(lat.begin(), lat.end());
    std::sort(first.begin(), first.end());
    std::size_t answered = 0, errors = 0;
    for (auto [s, n] : all.statuses) answered += n;
    for (const auto& [e, n] : all.transport_errors) errors += n;
    nlohmann::json j = {{"label", label}, {"url", url}, {"requests", requests}, {"concurrency", concurrency},
                        {"answered", answered}, {"transport_errors", errors}, {"unfinished_streams", all.unfinished_streams},
                        {"seconds", seconds}, {"requests_per_s", static_cast<double>(answered) / seconds},
                        {"p50_ms", percentile(lat, 0.50)}, {"p90_ms", percentile(lat, 0.90)}, {"p99_ms", percentile(lat, 0.99)}};
    if (stream) j["first_event_p50_ms"] = percentile(first, 0.5), j["first_event_p99_ms"] = percentile(first, 0.99);
    for (auto [s, n] : all.statuses) j["statuses"][std::to_string(s)] = n;
    for (const auto& [e, n] : all.transport_errors) j["errors"][e] = n;
    std::string statuses;
    for (auto [s, n] : all.statuses) statuses += fmt::format("{}{}x{}", statuses.empty() ? "" : " ", n, s);
    std::cout << fmt::format("{:<28} {:>7} req  {:>9.1f} req/s  p50 {:>8.3f} ms  p90 {:>8.3f} ms  p99 {:>8.3f} ms  answered: {}  transport errors: {}{}\n",
                             label.empty() ? url : label, requests, static_cast<double>(answered) / seconds, percentile(lat, 0.5),
                             percentile(lat, 0.9), percentile(lat, 0.99), statuses, errors,
                             stream ? fmt::format("  unfinished streams: {}", all.unfinished_streams) : "");
    if (!json_out.empty()) std::ofstream(json_out, std::ios::app) << j.dump() << '\n';
    return answered + errors == requests && all.unfinished_streams == 0 ? 0 : 1;
}
