// hiro bench --concurrency: the local tier under concurrent requests, against
// llama-server's continuous batching, and the reuse of a shared prompt prefix.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/concurrency_bench.h"
#include "cli/bench_args.h"
#include "cli/output_files.h"
#include "core/error.h"

namespace hiro::cli {
namespace {

void print_concurrency(const bench::ConcurrencyOptions& o, const bench::ConcurrencyResult& r) {
    std::cout << fmt::format("{}: {} threads, each request a {}-token random prompt then tg{} (greedy, end-of-generation ignored); "
                             "medians of {} rounds, each loading both sides afresh and running them in turn\n",
                             o.model, o.threads, o.prompt_tokens + 1, o.gen_tokens, o.rounds);
    std::cout << fmt::format("{:>8} {:>12} {:>12} {:>7} {:>13} {:>13} {:>7} {:>10} {:>10}\n", "requests", "hiro tok/s", "server tok/s", "ratio",
                             "hiro tok/CPUs", "server tok/CPUs", "ratio", "hiro ITL", "server ITL");
    for (const auto& l : r.levels) {
        std::cout << fmt::format("{:>8} {:>12.2f} {:>12.2f} {:>7.3f} {:>13.2f} {:>15.2f} {:>7.3f} {:>8.1f}ms {:>8.1f}ms\n", l.requests,
                                 l.hiro.tokens_per_s, l.llama_server.tokens_per_s, l.ratio(), l.hiro.cpu_tokens_per_s, l.llama_server.cpu_tokens_per_s,
                                 l.cpu_ratio(),
                                 l.hiro.itl_ms, l.llama_server.itl_ms);
    }
    std::cout << "(tok/s: generated tokens of all requests per second of wall clock; tok/CPUs: per CPU-second of the serving process;\n"
                 " ratio: the median of the rounds' hiro/llama-server ratios; ITL: each request's mean inter-token latency, averaged over the requests)\n";
    for (const auto& l : r.levels) {
        if (l.ratios.size() > 1) {
            std::cout << fmt::format("  ratio by round at {} requests: tok/s {:.3f}; tok/CPUs {:.3f}\n", l.requests, fmt::join(l.ratios, " "),
                                     fmt::join(l.cpu_ratios, " "));
        }
    }
    const auto& p = r.prefix;
    if (p.requests > 0) {
        std::cout << fmt::format("shared prefix: {} requests one after another, each {} tokens of which the first {} are shared\n", p.requests,
                                 p.prompt_tokens, p.prefix_tokens);
        std::cout << fmt::format("  {:<14} prompt tokens decoded {:>7.1f}, prefill {:>8.2f} ms\n", "hiro", p.hiro.prompt_tokens_decoded, p.hiro.prompt_ms);
        std::cout << fmt::format("  {:<14} prompt tokens decoded {:>7.1f}, prefill {:>8.2f} ms (cache_prompt)\n", "llama-server",
                                 p.llama_server.prompt_tokens_decoded, p.llama_server.prompt_ms);
    }
}

nlohmann::json to_json(const bench::ConcurrencyOptions& o, const bench::ConcurrencyResult& r) {
    auto side = [](const bench::ConcurrencySide& s) {
        return nlohmann::json{{"tokens_per_s", s.tokens_per_s}, {"cpu_tokens_per_s", s.cpu_tokens_per_s}, {"itl_ms", s.itl_ms}};
    };
    nlohmann::json levels = nlohmann::json::array();
    for (const auto& l : r.levels) {
        levels.push_back({{"requests", l.requests},
                          {"hiro", side(l.hiro)},
                          {"llama_server", side(l.llama_server)},
                          {"ratio", l.ratio()},
                          {"cpu_ratio", l.cpu_ratio()},
                          {"round_ratios", l.ratios},
                          {"round_cpu_ratios", l.cpu_ratios}});
    }
    nlohmann::json j = {{"model", o.model}, {"threads", o.threads}, {"prompt_tokens", o.prompt_tokens + 1}, {"gen_tokens", o.gen_tokens}, {"levels", levels}};
    if (r.prefix.requests > 0) {
        auto prefix_side = [](const bench::PrefixSide& s) { return nlohmann::json{{"prompt_ms", s.prompt_ms}, {"prompt_tokens_decoded", s.prompt_tokens_decoded}}; };
        j["shared_prefix"] = {{"prefix_tokens", r.prefix.prefix_tokens},
                              {"prompt_tokens", r.prefix.prompt_tokens},
                              {"requests", r.prefix.requests},
                              {"hiro", prefix_side(r.prefix.hiro)},
                              {"llama_server", prefix_side(r.prefix.llama_server)}};
    }
    return j;
}

}  // namespace

void run_bench_concurrency(const BenchArgs& a) {
    if (a.models.size() != 1 || a.threads.size() > 1) {
        throw core::Error(core::ErrorCode::invalid_input, "--concurrency takes one model and one --threads value");
    }
    bench::ConcurrencyOptions o;
    o.model = a.models[0];
    o.llama_server = a.llama_server;
    o.threads = a.threads.empty() ? 0 : a.threads[0];
    o.mmap = a.engine.mmap;
    o.prompt_tokens = a.engine.prompt_tokens;
    o.gen_tokens = a.engine.gen_tokens;
    o.levels = a.concurrency;
    o.rounds = a.concurrency_rounds;
    o.shared_prefix_tokens = a.shared_prefix;
    const bench::ConcurrencyResult r = bench::run_concurrency_bench(o);
    if (a.json != "-") print_concurrency(o, r);
    if (!a.json.empty()) {
        write_json(a.json, to_json(o, r));
        if (a.json != "-") spdlog::info("wrote {}", a.json);
    }
}

}  // namespace hiro::cli
