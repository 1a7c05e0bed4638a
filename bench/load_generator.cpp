// hiro_loadgen: a closed-loop HTTP load generator for the gateway benchmarks.
//   hiro_loadgen --url http://127.0.0.1:8000/v1/chat/completions --body FILE --requests 10000 --concurrency 8
// Each connection sends its share of requests one after another over
// keep-alive, reconnecting after a transport error. It reports every outcome:
// answers by HTTP status, and transport errors (never a silent loss), with
// latency percentiles and throughput, as a table or --json.
#include <utility>  // Boost 1.74 asio/awaitable.hpp needs std::exchange under C++20

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
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

struct Results {
    std::mutex mutex;
    std::map<int, std::size_t> statuses;
    std::map<std::string, std::size_t> transport_errors;
    std::vector<double> latencies_ms;  // of answered requests
};

void connection(const Target& t, const std::string& body, std::size_t count, Results& results) {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> req{http::verb::post, t.path, 11};
    req.set(http::field::host, t.host);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    std::map<int, std::size_t> statuses;
    std::map<std::string, std::size_t> errors;
    std::vector<double> latencies;
    latencies.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const auto start = Clock::now();
        beast::error_code ec;
        if (!stream) {
            stream.emplace(ioc);
            stream->connect(resolver.resolve(t.host, t.port), ec);
            if (!ec) stream->socket().set_option(tcp::no_delay(true));
        }
        http::response<http::string_body> res;
        if (!ec) http::write(*stream, req, ec);
        if (!ec) http::read(*stream, buffer, res, ec);
        if (ec) {
            ++errors[ec.message()];
            stream.reset();
            buffer.clear();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        ++statuses[static_cast<int>(res.result_int())];
        if (!res.keep_alive()) stream.reset();
    }
    std::lock_guard lock(results.mutex);
    for (auto [s, n] : statuses) results.statuses[s] += n;
    for (const auto& [e, n] : errors) results.transport_errors[e] += n;
    results.latencies_ms.insert(results.latencies_ms.end(), latencies.begin(), latencies.end());
}

double percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0.0;
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"hiro_loadgen: closed-loop HTTP load with every outcome counted"};
    std::string url, body_file, json_out, label;
    std::size_t requests = 1000, concurrency = 8;
    app.add_option("--url", url, "POST target, http://HOST:PORT/PATH")->required();
    app.add_option("--body", body_file, "file with the request body (JSON)")->required()->check(CLI::ExistingFile);
    app.add_option("--requests", requests, "total requests")->capture_default_str();
    app.add_option("--concurrency", concurrency, "connections sending at once")->capture_default_str();
    app.add_option("--label", label, "name of this run in the output");
    app.add_option("--json", json_out, "append the results as one JSON line to this file");
    CLI11_PARSE(app, argc, argv);

    std::ifstream in(body_file);
    std::stringstream body;
    body << in.rdbuf();
    const Target target = parse_url(url);
    Results results;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t c = 0; c < concurrency; ++c) {
        const std::size_t share = requests / concurrency + (c < requests % concurrency ? 1 : 0);
        threads.emplace_back(connection, std::cref(target), body.str(), share, std::ref(results));
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    auto& lat = results.latencies_ms;
    std::sort(lat.begin(), lat.end());
    std::size_t answered = 0, errors = 0;
    for (auto [s, n] : results.statuses) answered += n;
    for (const auto& [e, n] : results.transport_errors) errors += n;
    nlohmann::json j = {{"label", label}, {"url", url}, {"requests", requests}, {"concurrency", concurrency},
                        {"answered", answered}, {"transport_errors", errors}, {"seconds", seconds},
                        {"requests_per_s", static_cast<double>(answered) / seconds},
                        {"p50_ms", percentile(lat, 0.50)}, {"p90_ms", percentile(lat, 0.90)}, {"p99_ms", percentile(lat, 0.99)}};
    for (auto [s, n] : results.statuses) j["statuses"][std::to_string(s)] = n;
    for (const auto& [e, n] : results.transport_errors) j["errors"][e] = n;
    std::string statuses;
    for (auto [s, n] : results.statuses) statuses += fmt::format("{}{}x{}", statuses.empty() ? "" : " ", n, s);
    std::cout << fmt::format("{:<24} {:>7} req  {:>9.1f} req/s  p50 {:>7.3f} ms  p90 {:>7.3f} ms  p99 {:>7.3f} ms  answered: {}  transport errors: {}\n",
                             label.empty() ? url : label, requests, static_cast<double>(answered) / seconds, percentile(lat, 0.5),
                             percentile(lat, 0.9), percentile(lat, 0.99), statuses, errors);
    if (!json_out.empty()) std::ofstream(json_out, std::ios::app) << j.dump() << '\n';
    return answered + errors == requests ? 0 : 1;
}
