#include "bench/engine_bench.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "bench/llama_bench_loops.h"
#include "bench/machine_meters.h"
#include "core/error.h"
#include "engine/engine.h"

namespace hiro::bench {
namespace {

// Random tokens after BOS, as llama-bench's prompts (their content does not
// change the work).
std::vector<engine::Token> random_prompt(const engine::Model& model, int n, std::mt19937& rng) {
    std::uniform_int_distribution<engine::Token> token(0, model.vocab_size() - 1);
    std::vector<engine::Token> prompt(static_cast<std::size_t>(n));
    for (auto& t : prompt) t = token(rng);
    if (llama_vocab_get_add_bos(model.vocab())) prompt[0] = llama_vocab_bos(model.vocab());
    return prompt;
}

engine::Generation run(engine::Engine& engine, std::vector<engine::Token> prompt, int max_tokens) {
    engine::GenerationRequest request;
    request.prompt = std::move(prompt);
    request.params.max_tokens = max_tokens;
    request.ignore_end_of_generation = true;
    request.cache_prompt = false;  // every run decodes its whole prompt, as llama-bench's
    return engine.generate(request, nullptr, {});
}

}  // namespace

Spread spread_of(const std::vector<double>& v) {
    Spread s;
    if (v.empty()) return s;
    for (double x : v) s.mean += x / static_cast<double>(v.size());
    if (v.size() > 1) {
        double sq = 0.0;
        for (double x : v) sq += (x - s.mean) * (x - s.mean);
        s.sd = std::sqrt(sq / static_cast<double>(v.size() - 1));
    }
    return s;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(rank));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (rank - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

EngineBenchResult run_engine_bench(const EngineBenchOptions& o) {
    if (o.prompt_tokens < 1 || o.gen_tokens < 1 || o.repetitions < 1) {
        throw core::Error(core::ErrorCode::invalid_input, "--prompt-tokens, --gen-tokens and --repetitions must each be at least 1");
    }
    engine::ModelOptions model_options;
    model_options.path = o.model;
    model_options.threads = o.threads;
    model_options.mmap = o.mmap;
    model_options.context = o.prompt_tokens + o.gen_tokens + 1;
    spdlog::info("loading {}", o.model);
    engine::Engine engine(model_options);
    const engine::Model& model = engine.model();

    EngineBenchResult r;
    r.description = model.description();
    r.parameters = model.parameters();
    r.size_bytes = model.size_bytes();
    r.threads = model.options().threads;
    r.load_ms = model.load_ms();

    std::mt19937 rng(42);
    spdlog::info("hiro: warm-up (pp{} and tg1, {} threads)", o.prompt_tokens, r.threads);
    run(engine, random_prompt(model, o.prompt_tokens, rng), 1);
    run(engine, random_prompt(model, 1, rng), 2);

    // Before any reference context exists: the memory is the engine's alone.
    r.peak_rss_bytes = peak_rss_bytes();
    std::optional<LlamaBenchLoops> reference;
    if (o.cpu_time) {
        reference.emplace(model, model_options.context);
        reference->prompt(o.prompt_tokens);  // its warm-up, as llama-bench's
        reference->generate(1);
    }
    // CPU seconds of `f` (this process's threads).
    auto cpu_of = [](auto&& f) {
        const double start = process_cpu_seconds();
        f();
        return process_cpu_seconds() - start;
    };
    // Energy of hiro's runs alone: the reference's runs fall between them.
    double pp_joules = 0.0, tg_joules = 0.0;
    bool rapl_readable = true;
    auto metered = [&](double& joules, auto&& f) {
        const auto before = read_rapl();
        f();
        const auto after = read_rapl();
        if (before && after) joules += rapl_joules(*before, *after);
        else rapl_readable = false;
    };

    std::vector<double> pp, ttft, tg;
    // The fastest run of each: other load only ever adds CPU time (a busy
    // machine's caches, memory bus and, in a VM, stolen cycles).
    double pp_cpu = INFINITY, tg_cpu = INFINITY, reference_pp_cpu = INFINITY, reference_tg_cpu = INFINITY;
    auto fastest = [](double& best, double run) { best = std::min(best, run); };
    for (int i = 0; i < o.repetitions; ++i) {
        spdlog::info("hiro: pp{} run {}/{}", o.prompt_tokens, i + 1, o.repetitions);
        const auto prompt = random_prompt(model, o.prompt_tokens, rng);
        engine::Generation g;
        metered(pp_joules, [&] { fastest(pp_cpu, cpu_of([&] { g = run(engine, prompt, 1); })); });
        pp.push_back(o.prompt_tokens / (g.prompt_ms / 1000.0));
        ttft.push_back(g.answer.ttft_ms);
        if (reference) fastest(reference_pp_cpu, cpu_of([&] { reference->prompt(o.prompt_tokens); }));
    }
    for (int i = 0; i < o.repetitions; ++i) {
        spdlog::info("hiro: tg{} run {}/{}", o.gen_tokens, i + 1, o.repetitions);
        // BOS, then gen_tokens + 1 tokens: the first comes from decoding BOS,
        // each later one from decoding its predecessor, like llama-bench's tg.
        const auto prompt = random_prompt(model, 1, rng);
        engine::Generation g;
        metered(tg_joules, [&] { fastest(tg_cpu, cpu_of([&] { g = run(engine, prompt, o.gen_tokens + 1); })); });
        tg.push_back(o.gen_tokens / ((g.token_ms.back() - g.token_ms.front()) / 1000.0));
        for (std::size_t t = 1; t < g.token_ms.size(); ++t) r.itl_ms.push_back(g.token_ms[t] - g.token_ms[t - 1]);
        if (reference) fastest(reference_tg_cpu, cpu_of([&] { reference->generate(o.gen_tokens + 1); }));
    }
    // Both count decodes: pp the prompt's tokens, tg BOS and every generated token but the last.
    r.pp_cpu_tokens_per_s = o.prompt_tokens / pp_cpu;
    r.tg_cpu_tokens_per_s = (o.gen_tokens + 1) / tg_cpu;
    if (reference) {
        r.reference_pp_cpu_tokens_per_s = o.prompt_tokens / reference_pp_cpu;
        r.reference_tg_cpu_tokens_per_s = (o.gen_tokens + 1) / reference_tg_cpu;
    }

    r.pp_tokens_per_s = spread_of(pp);
    r.tg_tokens_per_s = spread_of(tg);
    r.ttft_ms = spread_of(ttft);
    r.itl_p50_ms = percentile(r.itl_ms, 50);
    r.itl_p95_ms = percentile(r.itl_ms, 95);
    if (rapl_readable) {
        r.pp_joules_per_token = pp_joules / (o.prompt_tokens * o.repetitions);
        r.tg_joules_per_token = tg_joules / (o.gen_tokens * o.repetitions);
    }
    return r;
}

}  // namespace hiro::bench
