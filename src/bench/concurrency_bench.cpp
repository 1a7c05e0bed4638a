#include "bench/concurrency_bench.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <latch>
#include <random>
#include <thread>

#include "bench/engine_bench.h"
#include "bench/llama_server_process.h"
#include "bench/machine_meters.h"
#include "core/error.h"
#include "engine/engine.h"

namespace hiro::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Random tokens after BOS, each request its own, so neither side reuses a cached prompt.
std::vector<engine::Token> random_tokens(const engine::Model& model, int n, std::mt19937& rng) {
    std::uniform_int_distribution<engine::Token> token(3, model.vocab_size() - 1);
    std::vector<engine::Token> tokens(static_cast<std::size_t>(n));
    for (auto& t : tokens) t = token(rng);
    return tokens;
}

std::vector<engine::Token> with_bos(const engine::Model& model, std::vector<engine::Token> tokens) {
    tokens.insert(tokens.begin(), model.start_token());
    return tokens;
}

// Runs `requests` calls of `one(i)` on as many threads, released together
// once all are started (else the first would arrive a thread start ahead of
// the last); returns the wall time from the release.
template <typename F>
double concurrently(int requests, F one) {
    std::latch started(requests + 1);
    std::vector<std::jthread> workers;
    for (int i = 0; i < requests; ++i) {
        workers.emplace_back([&, i] {
            started.arrive_and_wait();
            one(i);
        });
    }
    const auto start = Clock::now();
    started.arrive_and_wait();
    workers.clear();  // joins
    return seconds_since(start);
}

engine::ModelOptions model_options(const ConcurrencyOptions& o, int sequences) {
    engine::ModelOptions m;
    m.path = o.model;
    m.threads = o.threads;
    m.sequences = sequences;
    m.mmap = o.mmap;
    m.context = std::max(o.shared_prefix_tokens, 0) + o.prompt_tokens + o.gen_tokens + 8;
    return m;
}

double median(std::vector<double> v) { return percentile(std::move(v), 50.0); }

// Each figure's median over the rounds.
ConcurrencySide median_of(const std::vector<ConcurrencySide>& rounds) {
    auto of = [&](double ConcurrencySide::*field) {
        std::vector<double> v;
        for (const auto& r : rounds) v.push_back(r.*field);
        return median(std::move(v));
    };
    return {of(&ConcurrencySide::tokens_per_s), of(&ConcurrencySide::cpu_tokens_per_s), of(&ConcurrencySide::itl_ms)};
}

// One run of `n` concurrent requests through a loaded engine.
ConcurrencySide hiro_run(engine::Engine& engine, const ConcurrencyOptions& o, int n, std::mt19937& rng) {
    std::vector<engine::GenerationRequest> requests(static_cast<std::size_t>(n));
    for (auto& r : requests) {
        r.prompt = with_bos(engine.model(), random_tokens(engine.model(), o.prompt_tokens, rng));
        r.params.max_tokens = o.gen_tokens;
        r.ignore_end_of_generation = true;
        r.cache_prompt = false;  // as the server's requests: every prompt decoded whole
    }
    std::vector<double> itl(static_cast<std::size_t>(n));
    const double cpu_start = process_cpu_seconds();
    const double wall = concurrently(n, [&](int i) {
        const engine::Generation g = engine.generate(requests[static_cast<std::size_t>(i)], nullptr, {});
        itl[static_cast<std::size_t>(i)] = (g.token_ms.back() - g.token_ms.front()) / static_cast<double>(g.token_ms.size() - 1);
    });
    const double cpu = process_cpu_seconds() - cpu_start;
    ConcurrencySide side;
    side.tokens_per_s = n * o.gen_tokens / wall;
    side.cpu_tokens_per_s = n * o.gen_tokens / cpu;
    for (double x : itl) side.itl_ms += x / n;
    return side;
}

std::vector<std::string> server_args(const ConcurrencyOptions& o, int slots) {
    const engine::ModelOptions m = model_options(o, slots);
    const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
    std::vector<std::string> args = {"-t", std::to_string(threads), "-tb", std::to_string(threads), "-np", std::to_string(slots), "-c", std::to_string(m.context * slots),
            "-b", std::to_string(m.batch), "-ub", std::to_string(m.ubatch), "--no-webui"};
    if (!o.mmap) args.insert(args.end(), {"-lm", "none"});
    return args;
}

nlohmann::json completion(const std::vector<engine::Token>& prompt, int gen, bool cache_prompt) {
    return {{"prompt", prompt}, {"n_predict", gen}, {"ignore_eos", true}, {"temperature", 0.0}, {"cache_prompt", cache_prompt}};
}

// One run of `n` concurrent requests through a started llama-server.
ConcurrencySide server_run(const LlamaServerProcess& server, const ConcurrencyOptions& o, const engine::Model& model, int n, std::mt19937& rng) {
    std::vector<std::vector<engine::Token>> prompts;
    for (int i = 0; i < n; ++i) prompts.push_back(with_bos(model, random_tokens(model, o.prompt_tokens, rng)));
    std::vector<double> itl(static_cast<std::size_t>(n));
    std::vector<int> generated(static_cast<std::size_t>(n));
    const double cpu_start = server.cpu_seconds();
    const double wall = concurrently(n, [&](int i) {
        const auto answer = server.post("/completion", completion(prompts[static_cast<std::size_t>(i)], o.gen_tokens, false));
        const auto& t = answer.at("timings");
        generated[static_cast<std::size_t>(i)] = t.at("predicted_n").get<int>();
        itl[static_cast<std::size_t>(i)] = t.at("predicted_ms").get<double>() / std::max(1, t.at("predicted_n").get<int>() - 1);
    });
    const double cpu = server.cpu_seconds() - cpu_start;
    int tokens = 0;
    for (int g : generated) tokens += g;
    ConcurrencySide side;
    side.tokens_per_s = tokens / wall;
    side.cpu_tokens_per_s = tokens / cpu;
    for (double x : itl) side.itl_ms += x / n;
    return side;
}

// Each round loads both sides afresh, side by side, warms each up, then runs
// them in turn: a round's two runs are seconds apart, so the machine's slow
// drifts fall on both, and where each load's weights land in memory (which
// moves a whole run by several percent) is drawn again every round.
ConcurrencyLevel measure_level(const ConcurrencyOptions& o, int n, std::mt19937& rng) {
    ConcurrencyLevel level;
    level.requests = n;
    std::vector<ConcurrencySide> hiro, llama_server;
    for (int round = 0; round < o.rounds; ++round) {
        spdlog::info("{} concurrent requests of tg{}, round {} of {}", n, o.gen_tokens, round + 1, o.rounds);
        engine::Engine engine(model_options(o, n));
        engine.warm_up();
        const engine::Model& model = engine.model();
        const LlamaServerProcess server(o.llama_server, o.model, server_args(o, n));
        server.post("/completion", completion(with_bos(model, random_tokens(model, o.prompt_tokens, rng)), 2, false));  // warm-up
        if (round % 2 == 0) hiro.push_back(hiro_run(engine, o, n, rng));
        llama_server.push_back(server_run(server, o, model, n, rng));
        if (round % 2 == 1) hiro.push_back(hiro_run(engine, o, n, rng));
        level.ratios.push_back(hiro.back().tokens_per_s / llama_server.back().tokens_per_s);
        level.cpu_ratios.push_back(hiro.back().cpu_tokens_per_s / llama_server.back().cpu_tokens_per_s);
    }
    level.hiro = median_of(hiro);
    level.llama_server = median_of(llama_server);
    return level;
}

// The shared-prefix test on both sides: one warm request, then the measured ones.
PrefixReuse prefix_reuse(const ConcurrencyOptions& o, std::mt19937& rng) {
    engine::Engine engine(model_options(o, 1));
    engine.warm_up();
    const engine::Model& model = engine.model();
    const std::vector<engine::Token> prefix = with_bos(model, random_tokens(model, o.shared_prefix_tokens - 1, rng));
    std::vector<std::vector<engine::Token>> prompts;
    for (int i = 0; i <= o.shared_prefix_requests; ++i) {
        std::vector<engine::Token> p = prefix;
        const auto question = random_tokens(model, o.prompt_tokens, rng);
        p.insert(p.end(), question.begin(), question.end());
        prompts.push_back(std::move(p));
    }
    PrefixReuse r;
    r.prefix_tokens = o.shared_prefix_tokens;
    r.prompt_tokens = static_cast<int>(prompts[0].size());
    r.requests = o.shared_prefix_requests;
    const double measured = o.shared_prefix_requests;
    spdlog::info("hiro: {} requests sharing a {}-token prefix", o.shared_prefix_requests, o.shared_prefix_tokens);
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        engine::GenerationRequest request;
        request.prompt = prompts[i];
        request.params.max_tokens = 4;
        request.ignore_end_of_generation = true;
        const engine::Generation g = engine.generate(request, nullptr, {});
        if (i == 0) continue;
        r.hiro.prompt_ms += g.prompt_ms / measured;
        r.hiro.prompt_tokens_decoded += static_cast<double>(prompts[i].size() - g.prompt_tokens_reused) / measured;
    }
    LlamaServerProcess server(o.llama_server, o.model, server_args(o, 1));
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        const auto answer = server.post("/completion", completion(prompts[i], 4, true));
        if (i == 0) continue;
        r.llama_server.prompt_ms += answer.at("timings").at("prompt_ms").get<double>() / measured;
        r.llama_server.prompt_tokens_decoded += answer.at("timings").at("prompt_n").get<double>() / measured;
    }
    return r;
}

}  // namespace

double ConcurrencyLevel::ratio() const { return median(ratios); }
double ConcurrencyLevel::cpu_ratio() const { return median(cpu_ratios); }

ConcurrencyResult run_concurrency_bench(const ConcurrencyOptions& o) {
    if (o.prompt_tokens < 1 || o.gen_tokens < 2) throw core::Error(core::ErrorCode::invalid_input, "--prompt-tokens must be at least 1 and --gen-tokens at least 2");
    for (int n : o.levels) {
        if (n < 1) throw core::Error(core::ErrorCode::invalid_input, "--concurrency levels must each be at least 1");
    }
    if (o.rounds < 1) throw core::Error(core::ErrorCode::invalid_input, "--rounds must be at least 1");
    ConcurrencyResult result;
    std::mt19937 rng(7);
    for (int n : o.levels) result.levels.push_back(measure_level(o, n, rng));
    if (o.shared_prefix_tokens > 0) result.prefix = prefix_reuse(o, rng);
    return result;
}

}  // namespace hiro::bench
