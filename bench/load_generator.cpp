// hiro_loadgen: an HTTP load generator for the gateway benchmarks, closed or open loop.
//   hiro_loadgen --url http://127.0.0.1:8000/v1/chat/completions --body FILE --requests 10000 --concurrency 8 [--stream]
//   hiro_loadgen --url ... --body FILE --requests 10000 --rate 400 [--seed 1] [--header "x-hiro-deadline-ms: 1000"]
// Closed loop (the default): each of --concurrency connections sends its share
// of requests one after another over keep-alive, reconnecting after a
// transport error. Throughput is what the server allows, and a slow server
// slows the load down, so this measures capacity, not latency under load.
// Open loop (--rate R): requests start at the arrivals of a Poisson process
// of rate R per second (seeded by --seed), whatever the server is doing; each
// runs on its own coroutine over a keep-alive connection taken from an idle
// pool, or a new one when none is idle, so a slow server makes requests pile
// up instead of slowing the arrivals. Latency counts from the scheduled start,
// so time spent waiting for the load generator itself is not hidden either
// (no coordinated omission). --requests is the total; --concurrency has no
// meaning in this mode and is refused with --rate rather than silently ignored.
// Connections are coroutines on --threads I/O threads, so ten thousand of
// them cost no more than their sockets (in open loop each thread runs an
// independent Poisson process of rate R / threads: together, one of rate R).
// It reports every outcome: answers by HTTP status and by the gateway tier
// that gave them (x-hiro-tier), streams that did not end in [DONE], and
// transport errors (never a silent loss), with latency (and, streaming, time
// to first event) percentiles and throughput, as a table or --json (a file
// the line is appended to, or - for stdout, the table then going to stderr).
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
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
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

// "Name: value" as given to --header, split at the first colon.
std::pair<std::string, std::string> split_header(const std::string& line) {
    const auto colon = line.find(':');
    const auto value = line.find_first_not_of(" \t", colon + 1);
    return {line.substr(0, colon), value == std::string::npos ? "" : line.substr(value)};
}

const CLI::Validator header_line(
    [](const std::string& line) {
        const auto colon = line.find(':');
        return colon == std::string::npos || colon == 0 ? std::string("expected \"Name: value\"") : std::string();
    },
    "\"NAME: VALUE\"");

// CLI::PositiveNumber would print its range up to the largest double.
const CLI::Validator positive(
    [](const std::string& number) {
        double value = 0;
        return CLI::detail::lexical_cast(number, value) && value > 0 ? std::string() : std::string("must be a number above 0");
    },
    "POSITIVE");

// What every request of a run shares.
struct Load {
    tcp::endpoint endpoint;
    http::request<http::string_body> request;
    bool stream = false;
};

// What the requests of one I/O thread measured; merged at the end.
struct Results {
    std::map<int, std::size_t> statuses;
    std::map<std::string, std::size_t> tiers;  // answers by x-hiro-tier, when the server names one
    std::map<std::string, std::size_t> transport_errors;
    std::size_t unfinished_streams = 0;  // 200 streams that did not end in [DONE]
    std::vector<double> latencies_ms;    // of answered requests
    std::vector<double> first_event_ms;  // streams: until the first event arrived
    void merge(const Results& o) {
        for (auto [s, n] : o.statuses) statuses[s] += n;
        for (const auto& [t, n] : o.tiers) tiers[t] += n;
        for (const auto& [e, n] : o.transport_errors) transport_errors[e] += n;
        unfinished_streams += o.unfinished_streams;
        latencies_ms.insert(latencies_ms.end(), o.latencies_ms.begin(), o.latencies_ms.end());
        first_event_ms.insert(first_event_ms.end(), o.first_event_ms.begin(), o.first_event_ms.end());
    }
};

// A keep-alive connection (opened by its first request) and what was read past its last answer.
struct Connection {
    explicit Connection(const asio::any_io_executor& ex) : socket(ex) {}
    beast::tcp_stream socket;
    beast::flat_buffer buffer;
};

// One I/O thread: its requests only touch its own results and connections, so nothing is locked.
struct Lane {
    asio::io_context context{1};
    Results results;
    // Open loop: connections not carrying a request. Taken last in, first out,
    // so that the busiest stay warm and the server may time the others out.
    std::vector<std::unique_ptr<Connection>> idle;  // after context: closed before it goes
};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void record_answer(const http::response<http::string_body>& res, double latency_ms, std::optional<double> first_event_ms, bool stream,
                   Results& results) {
    results.latencies_ms.push_back(latency_ms);
    ++results.statuses[static_cast<int>(res.result_int())];
    if (const auto tier = res.find("x-hiro-tier"); tier != res.end()) ++results.tiers[std::string(tier->value())];
    if (stream && res.result_int() == 200) {
        if (first_event_ms) results.first_event_ms.push_back(*first_event_ms);
        if (res.body().find("data: [DONE]") == std::string::npos) ++results.unfinished_streams;
    }
}

// What a connection is good for after a request.
enum class After { reuse, close, failed };

// One request over conn (connecting it first if new), its outcome recorded
// with the latency counted from start: the same for both modes, which only
// differ in when start is and where the connection comes from.
asio::awaitable<After> exchange(Connection& conn, const Load& load, Clock::time_point start, Results& results) {
    beast::error_code ec;
    if (!conn.socket.socket().is_open()) {
        std::tie(ec) = co_await conn.socket.socket().async_connect(load.endpoint, with_error);
        if (!ec) conn.socket.socket().set_option(tcp::no_delay(true), ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    std::optional<double> first_event;
    if (!ec) std::tie(ec, std::ignore) = co_await http::async_write(conn.socket, load.request, with_error);
    if (!ec) std::tie(ec, std::ignore) = co_await http::async_read_header(conn.socket, conn.buffer, parser, with_error);
    while (!ec && !parser.is_done()) {
        std::tie(ec, std::ignore) = co_await http::async_read_some(conn.socket, conn.buffer, parser, with_error);
        if (!first_event && !parser.get().body().empty()) first_event = ms_since(start);
    }
    if (ec) {
        ++results.transport_errors[ec.message()];
        co_return After::failed;
    }
    record_answer(parser.get(), ms_since(start), first_event, load.stream, results);
    co_return parser.get().keep_alive() ? After::reuse : After::close;
}

// Closed loop: one connection sending count requests one after another.
asio::awaitable<void> closed_loop_connection(const Load& load, std::size_t count, Results& results) {
    auto ex = co_await asio::this_coro::executor;
    std::optional<Connection> conn;
    for (std::size_t i = 0; i < count; ++i) {
        const auto start = Clock::now();
        if (!conn) conn.emplace(ex);
        const After after = co_await exchange(*conn, load, start, results);
        if (after == After::reuse) continue;
        conn.reset();
        if (after == After::failed) {  // so that a server that refuses connections is not hammered in a tight loop
            asio::steady_timer pause(ex, std::chrono::milliseconds(1));
            co_await pause.async_wait(asio::use_awaitable);
        }
    }
}

// Open loop: one request, timed from when it was due, over an idle connection or a new one.
asio::awaitable<void> open_loop_request(const Load& load, Clock::time_point due, Lane& lane) {
    std::unique_ptr<Connection> conn;
    if (lane.idle.empty()) {
        conn = std::make_unique<Connection>(co_await asio::this_coro::executor);
    } else {
        conn = std::move(lane.idle.back());
        lane.idle.pop_back();
    }
    if (co_await exchange(*conn, load, due, lane.results) == After::reuse) lane.idle.push_back(std::move(conn));
}

// Open loop: starts count requests at the arrivals of a Poisson process of
// the given rate from origin. Arrival times are absolute, so a late wake-up
// neither shifts the later arrivals nor shortens the measured latency.
asio::awaitable<void> open_loop_arrivals(const Load& load, std::size_t count, double rate, std::uint64_t seed, Clock::time_point origin,
                                         Lane& lane) {
    std::mt19937_64 random(seed);
    std::exponential_distribution<double> gap_s(rate);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    Clock::time_point due = origin;
    for (std::size_t i = 0; i < count; ++i) {
        due += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap_s(random)));
        timer.expires_at(due);
        co_await timer.async_wait(asio::use_awaitable);
        asio::co_spawn(timer.get_executor(), open_loop_request(load, due, lane), asio::detached);
    }
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0.0;
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

struct Options {
    std::string url, body_file, json_out, label;
    std::vector<std::string> headers;
    std::size_t requests = 1000, concurrency = 8, threads = 1;
    bool stream = false;
    std::optional<double> rate;  // requests per second: open loop
    std::uint64_t seed = 1;
};

Load make_load(const Options& o) {
    std::ifstream in(o.body_file);
    std::stringstream body;
    body << in.rdbuf();
    const Target target = parse_url(o.url);
    Load load;
    load.stream = o.stream;
    auto& req = load.request;
    req = {http::verb::post, target.path, 11};
    req.set(http::field::host, target.host);
    req.set(http::field::content_type, "application/json");
    for (const auto& line : o.headers) {
        const auto [name, value] = split_header(line);
        req.set(name, value);
    }
    req.body() = body.str();
    req.prepare_payload();
    asio::io_context resolver_context;
    load.endpoint = *tcp::resolver(resolver_context).resolve(target.host, target.port).begin();
    return load;
}

// The share of count of n parts that part i gets.
std::size_t share(std::size_t count, std::size_t n, std::size_t i) { return count / n + (i < count % n ? 1 : 0); }

// Runs the load on its lanes; returns the wall time in seconds.
double run(const Options& o, const Load& load, std::vector<std::unique_ptr<Lane>>& lanes) {
    const std::size_t threads = lanes.size();
    const auto start = Clock::now();
    if (o.rate) {
        std::mt19937_64 seeds(o.seed);  // one independent stream of arrivals per lane, all fixed by --seed
        for (std::size_t t = 0; t < threads; ++t) {
            Lane& lane = *lanes[t];
            asio::co_spawn(lane.context, open_loop_arrivals(load, share(o.requests, threads, t), *o.rate / static_cast<double>(threads), seeds(), start, lane),
                           asio::detached);
        }
    } else {
        for (std::size_t c = 0; c < o.concurrency; ++c) {
            Lane& lane = *lanes[c % threads];
            asio::co_spawn(lane.context, closed_loop_connection(load, share(o.requests, o.concurrency, c), lane.results), asio::detached);
        }
    }
    std::vector<std::thread> pool;
    for (auto& lane : lanes) pool.emplace_back([&lane] { lane->context.run(); });
    for (auto& t : pool) t.join();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything measured, sorted for percentiles.
struct Summary {
    Results all;
    std::size_t answered = 0, errors = 0;
    double seconds = 0;
    double achieved_rate() const { return static_cast<double>(answered) / seconds; }
};

Summary summarize(const std::vector<std::unique_ptr<Lane>>& lanes, double seconds) {
    Summary s;
    for (const auto& lane : lanes) s.all.merge(lane->results);
    std::sort(s.all.latencies_ms.begin(), s.all.latencies_ms.end());
    std::sort(s.all.first_event_ms.begin(), s.all.first_event_ms.end());
    for (auto [status, n] : s.all.statuses) s.answered += n;
    for (const auto& [e, n] : s.all.transport_errors) s.errors += n;
    s.seconds = seconds;
    return s;
}

nlohmann::json json_report(const Options& o, const Summary& s) {
    const auto& lat = s.all.latencies_ms;
    nlohmann::json j = {{"label", o.label}, {"url", o.url}, {"requests", o.requests}, {"mode", o.rate ? "open" : "closed"},
                        {"answered", s.answered}, {"transport_errors", s.errors}, {"unfinished_streams", s.all.unfinished_streams},
                        // achieved_rate is what the open-loop benchmarks compare with offered_rate;
                        // requests_per_s, the same number, stays for the scripts that read it.
                        {"seconds", s.seconds}, {"requests_per_s", s.achieved_rate()}, {"achieved_rate", s.achieved_rate()},
                        {"p50_ms", percentile(lat, 0.50)}, {"p90_ms", percentile(lat, 0.90)}, {"p95_ms", percentile(lat, 0.95)},
                        {"p99_ms", percentile(lat, 0.99)}, {"tiers", nlohmann::json::object()}};
    if (o.rate) {
        j["offered_rate"] = *o.rate;
        j["seed"] = o.seed;
    } else {
        j["concurrency"] = o.concurrency;
    }
    if (o.stream) j["first_event_p50_ms"] = percentile(s.all.first_event_ms, 0.5), j["first_event_p99_ms"] = percentile(s.all.first_event_ms, 0.99);
    for (auto [status, n] : s.all.statuses) j["statuses"][std::to_string(status)] = n;
    for (const auto& [tier, n] : s.all.tiers) j["tiers"][tier] = n;
    for (const auto& [e, n] : s.all.transport_errors) j["errors"][e] = n;
    return j;
}

std::string table_report(const Options& o, const Summary& s) {
    const auto& lat = s.all.latencies_ms;
    std::string statuses;
    for (auto [status, n] : s.all.statuses) statuses += fmt::format("{}{}x{}", statuses.empty() ? "" : " ", n, status);
    std::string out = fmt::format(
        "{:<28} {:>7} req  {:>9.1f} req/s  p50 {:>8.3f} ms  p90 {:>8.3f} ms  p99 {:>8.3f} ms  answered: {}  transport errors: {}{}{}\n",
        o.label.empty() ? o.url : o.label, o.requests, s.achieved_rate(), percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99),
        statuses, s.errors, o.stream ? fmt::format("  unfinished streams: {}", s.all.unfinished_streams) : "",
        o.rate ? fmt::format("  offered: {:.1f} req/s", *o.rate) : "");
    // Shares of all answers: what is missing to 100% came without x-hiro-tier.
    for (const auto& [tier, n] : s.all.tiers) {
        out += fmt::format("  tier {:<22} {:>7}  {:>5.1f}%\n", tier, n, 100.0 * static_cast<double>(n) / static_cast<double>(s.answered));
    }
    return out;
}

// Enough descriptors for the connections; false when closed loop cannot have them all.
// (Open loop needs as many as requests in flight, not known in advance: a
// shortage shows as transport errors.)
bool raise_descriptor_limit(const Options& o) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return true;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    if (!o.rate && limit.rlim_cur < o.concurrency + 64) {
        std::cerr << "hiro_loadgen: " << o.concurrency << " connections need more file descriptors than the " << limit.rlim_cur << " allowed\n";
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"hiro_loadgen: closed- or open-loop HTTP load with every outcome counted"};
    Options o;
    app.add_option("--url", o.url, "POST target, http://HOST:PORT/PATH")->required();
    app.add_option("--body", o.body_file, "file with the request body (JSON)")->required()->check(CLI::ExistingFile);
    app.add_option("--header", o.headers, "an extra request header \"Name: value\" (repeatable)")->check(header_line);
    app.add_option("--requests", o.requests, "total requests")->capture_default_str();
    auto* concurrency = app.add_option("--concurrency", o.concurrency, "closed loop: connections sending at once")->capture_default_str();
    app.add_option("--rate", o.rate, "open loop: start requests as a Poisson process of this many per second")
        ->check(positive)
        ->excludes(concurrency);
    app.add_option("--seed", o.seed, "open loop: seed of the arrival times")->capture_default_str();
    app.add_option("--threads", o.threads, "I/O threads of the load generator")->capture_default_str()->check(positive);
    app.add_flag("--stream", o.stream, "the answers are Server-Sent Events: time the first event and check each ends in [DONE]");
    app.add_option("--label", o.label, "name of this run in the output");
    app.add_option("--json", o.json_out, "append the results as one JSON line to this file (- for stdout)");
    CLI11_PARSE(app, argc, argv);

    if (!raise_descriptor_limit(o)) return 2;
    const Load load = make_load(o);
    std::vector<std::unique_ptr<Lane>> lanes;
    for (std::size_t t = 0; t < o.threads; ++t) lanes.push_back(std::make_unique<Lane>());
    Summary s = summarize(lanes, run(o, load, lanes));

    // With the JSON on stdout, the table moves to stderr so that stdout stays one JSON line.
    (o.json_out == "-" ? std::cerr : std::cout) << table_report(o, s);
    if (o.json_out == "-") {
        std::cout << json_report(o, s).dump() << '\n';
    } else if (!o.json_out.empty()) {
        std::ofstream(o.json_out, std::ios::app) << json_report(o, s).dump() << '\n';
    }
    return s.answered + s.errors == o.requests && s.all.unfinished_streams == 0 ? 0 : 1;
}
