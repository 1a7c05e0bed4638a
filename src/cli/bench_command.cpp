// hiro bench: the in-process engine's speed, memory and energy on this
// machine, side by side with llama.cpp's own llama-bench.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "bench/engine_bench.h"
#include "bench/llama_bench.h"
#include "cli/bench_args.h"
#include "cli/commands.h"
#include "cli/output_files.h"
#include "core/edge_profiles.h"
#include "core/error.h"
#include "eval/svg_chart.h"

namespace hiro::cli {
namespace {

// Energy per token: RAPL where the kernel lets us read it, else the device
// profile's power draw times the measured time per token.
struct EnergyPerToken {
    double pp = 0.0, tg = 0.0;
    std::string label;   // "measured" or "estimated"
    std::string source;
};

// What a million generated tokens cost on the device at its hourly cost and
// this run's generation speed; none without a device or an hourly cost.
std::optional<double> usd_per_million_tokens(const bench::EngineBenchResult& r, const std::optional<core::DeviceProfile>& device) {
    if (!device || device->hourly_cost_usd <= 0.0) return std::nullopt;
    return device->hourly_cost_usd / 3600.0 / r.tg_tokens_per_s.mean * 1e6;
}

std::optional<EnergyPerToken> energy_of(const bench::EngineBenchResult& r, const std::optional<core::DeviceProfile>& device) {
    if (r.pp_joules_per_token && r.tg_joules_per_token) {
        return EnergyPerToken{*r.pp_joules_per_token, *r.tg_joules_per_token, "measured",
                              "RAPL package counters over the runs (whole CPU package, other load included)"};
    }
    if (!device) return std::nullopt;
    return EnergyPerToken{device->active_power_w / r.pp_tokens_per_s.mean, device->active_power_w / r.tg_tokens_per_s.mean, "estimated",
                          fmt::format("{}: {} W x measured time per token ({})", device->name, device->active_power_w, device->source)};
}

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string tps(const bench::Spread& s) { return fmt::format("{:.1f} ± {:.1f}", s.mean, s.sd); }

void print_table(const BenchArgs& a, const bench::EngineBenchResult& r, const std::optional<bench::LlamaBenchResult>& ref,
                 const std::optional<EnergyPerToken>& energy, const std::optional<double>& usd) {
    const auto& o = a.engine;
    std::cout << fmt::format("{}: {}, {:.0f} K parameters, {:.2f} MiB, {} threads, {} repetitions\n", o.model, r.description,
                             static_cast<double>(r.parameters) / 1e3, mib(static_cast<std::int64_t>(r.size_bytes)), r.threads, o.repetitions);
    std::cout << fmt::format("  {:<34} {:>18} {:>18} {:>10}\n", "", "hiro", "llama-bench", "ratio");
    auto row = [&](const std::string& name, const bench::Spread& ours, const std::optional<bench::Spread>& theirs) {
        std::cout << fmt::format("  {:<34} {:>18} {:>18} {:>10}\n", name, tps(ours), theirs ? tps(*theirs) : "-",
                                 theirs ? fmt::format("{:.3f}", ours.mean / theirs->mean) : "-");
    };
    row(fmt::format("prompt processing pp{} (tok/s)", o.prompt_tokens), r.pp_tokens_per_s,
        ref ? std::optional(ref->pp_tokens_per_s) : std::nullopt);
    row(fmt::format("generation tg{} (tok/s)", o.gen_tokens), r.tg_tokens_per_s, ref ? std::optional(ref->tg_tokens_per_s) : std::nullopt);
    if (o.cpu_time) {
        auto cpu_row = [&](const std::string& name, double ours, double theirs) {
            std::cout << fmt::format("  {:<34} {:>18.1f} {:>18.1f} {:>10.3f}\n", name, ours, theirs, ours / theirs);
        };
        cpu_row("pp per CPU-second (tok/CPU-s) *", r.pp_cpu_tokens_per_s, r.reference_pp_cpu_tokens_per_s);
        cpu_row("tg per CPU-second (tok/CPU-s) *", r.tg_cpu_tokens_per_s, r.reference_tg_cpu_tokens_per_s);
    }
    std::cout << fmt::format("  {:<34} {:>18} {:>18}\n", "peak RSS (MiB)", fmt::format("{:.1f}", mib(r.peak_rss_bytes)),
                             ref ? fmt::format("{:.1f}", mib(ref->peak_rss_bytes)) : "-");
    std::cout << fmt::format("  {:<34} {:>18.2f}\n", "model load (ms)", r.load_ms);
    std::cout << fmt::format("  {:<34} {:>18}\n", fmt::format("time to first token, pp{} (ms)", o.prompt_tokens),
                             fmt::format("{:.3f} ± {:.3f}", r.ttft_ms.mean, r.ttft_ms.sd));
    std::cout << fmt::format("  {:<34} {:>18}\n", "inter-token latency p50 / p95 (ms)", fmt::format("{:.4f} / {:.4f}", r.itl_p50_ms, r.itl_p95_ms));
    if (energy) {
        std::cout << fmt::format("  {:<34} {:>18}  {}\n", "energy per token pp / tg (mJ)",
                                 fmt::format("{:.4f} / {:.4f}", energy->pp * 1e3, energy->tg * 1e3), energy->label);
        std::cout << fmt::format("  {:<34} {:>18.1f}\n", "generated tokens per joule", 1.0 / energy->tg);
        std::cout << "  (" << energy->label << ": " << energy->source << ")\n";
    } else {
        std::cout << fmt::format("  {:<34} {:>18}\n", "energy per token", "unknown")
                  << "  (RAPL is not readable here; pass --device NAME for an estimate, e.g. --device raspberry-pi-5)\n";
    }
    if (o.cpu_time) std::cout << "  (* the fastest run's CPU time, of hiro and of llama-bench's pp and tg loops run in turn with hiro's in this process)\n";
    if (usd) std::cout << fmt::format("  {:<34} {:>18.4f}  at {}'s hourly cost\n", "$ per 1M generated tokens", *usd, a.device);
}

nlohmann::json to_json(const BenchArgs& a, const bench::EngineBenchResult& r, const std::optional<bench::LlamaBenchResult>& ref,
                       const std::optional<EnergyPerToken>& energy, const std::optional<double>& usd) {
    auto spread = [](const bench::Spread& s) { return nlohmann::json{{"mean", s.mean}, {"sd", s.sd}}; };
    nlohmann::json j = {
        {"model", a.engine.model},
        {"description", r.description},
        {"parameters", r.parameters},
        {"size_bytes", r.size_bytes},
        {"threads", r.threads},
        {"prompt_tokens", a.engine.prompt_tokens},
        {"gen_tokens", a.engine.gen_tokens},
        {"repetitions", a.engine.repetitions},
        {"hiro",
         {{"load_ms", r.load_ms},
          {"pp_tokens_per_s", spread(r.pp_tokens_per_s)},
          {"tg_tokens_per_s", spread(r.tg_tokens_per_s)},
          {"ttft_ms", spread(r.ttft_ms)},
          {"itl_p50_ms", r.itl_p50_ms},
          {"itl_p95_ms", r.itl_p95_ms},
          {"peak_rss_bytes", r.peak_rss_bytes}}},
        {"llama_bench", nullptr},
        {"energy", nullptr},
        {"usd_per_million_tokens", usd ? nlohmann::json(*usd) : nlohmann::json(nullptr)},
    };
    if (a.engine.cpu_time) {
        j["hiro"]["pp_cpu_tokens_per_s"] = r.pp_cpu_tokens_per_s;
        j["hiro"]["tg_cpu_tokens_per_s"] = r.tg_cpu_tokens_per_s;
        j["llama_bench_loops"] = {{"pp_cpu_tokens_per_s", r.reference_pp_cpu_tokens_per_s}, {"tg_cpu_tokens_per_s", r.reference_tg_cpu_tokens_per_s}};
        j["cpu_ratio"] = {{"pp", r.pp_cpu_tokens_per_s / r.reference_pp_cpu_tokens_per_s},
                          {"tg", r.tg_cpu_tokens_per_s / r.reference_tg_cpu_tokens_per_s}};
    }
    if (ref) {
        j["llama_bench"] = {{"command", ref->command},
                            {"pp_tokens_per_s", spread(ref->pp_tokens_per_s)},
                            {"tg_tokens_per_s", spread(ref->tg_tokens_per_s)},
                            {"peak_rss_bytes", ref->peak_rss_bytes}};
        j["ratio"] = {{"pp", r.pp_tokens_per_s.mean / ref->pp_tokens_per_s.mean}, {"tg", r.tg_tokens_per_s.mean / ref->tg_tokens_per_s.mean}};
    }
    if (energy) {
        j["energy"] = {{"label", energy->label},
                       {"source", energy->source},
                       {"pp_joules_per_token", energy->pp},
                       {"tg_joules_per_token", energy->tg},
                       {"tg_tokens_per_joule", 1.0 / energy->tg}};
    }
    return j;
}

// The inter-token latency distribution: its tail is what a streaming user feels.
void write_plot(const std::string& path, const bench::EngineBenchResult& r) {
    std::vector<double> sorted = r.itl_ms;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::pair<double, double>> cdf;
    for (std::size_t i = 0; i < sorted.size(); ++i) cdf.emplace_back(sorted[i], static_cast<double>(i + 1) / static_cast<double>(sorted.size()));
    eval::SvgChart chart("Inter-token latency of hiro's engine", "inter-token latency (ms)", "share of tokens");
    chart.add_note(fmt::format("{} tokens, p50 {:.4f} ms, p95 {:.4f} ms", sorted.size(), r.itl_p50_ms, r.itl_p95_ms));
    chart.add_line(std::move(cdf), "hiro tg", "#1f77b4");
    chart.write(path);
}

void run_single(BenchArgs a) {
    if (a.models.size() != 1 || a.threads.size() > 1) {
        throw core::Error(core::ErrorCode::invalid_input, "give one model and one --threads value (several only with --matrix)");
    }
    a.engine.model = a.models[0];
    a.engine.threads = a.threads.empty() ? 0 : a.threads[0];
    std::optional<core::DeviceProfile> device;
    if (!a.device.empty()) device = core::load_edge_profiles(a.profiles).device(a.device);
    if (!a.skip_llama_bench) bench::check_llama_bench(a.llama_bench);
    const bench::EngineBenchResult r = bench::run_engine_bench(a.engine);
    std::optional<bench::LlamaBenchResult> ref;
    if (!a.skip_llama_bench) ref = bench::run_llama_bench(a.llama_bench, a.engine, r.threads);
    const auto energy = energy_of(r, device);
    const auto usd = usd_per_million_tokens(r, device);
    if (a.json != "-") print_table(a, r, ref, energy, usd);
    if (!a.json.empty()) {
        write_json(a.json, to_json(a, r, ref, energy, usd));
        if (a.json != "-") spdlog::info("wrote {}", a.json);
    }
    if (!a.plot.empty()) {
        write_plot(a.plot, r);
        spdlog::info("wrote {}", a.plot);
    }
}

void run_bench(const BenchArgs& a) {
    if (a.matrix) return run_bench_matrix(a);
    if (!a.concurrency.empty()) return run_bench_concurrency(a);
    run_single(a);
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto args = std::make_shared<BenchArgs>();
    CLI::App* cmd = app.add_subcommand("bench", "Measure GGUF models in hiro's engine against llama.cpp's llama-bench and llama-server");
    cmd->footer(
        "Measure a GGUF model in hiro's in-process engine: load time, prompt-processing and generation tokens/s,\n"
        "time to first token, inter-token latency p50/p95, peak RSS, energy per token (RAPL 'measured' where\n"
        "the kernel lets it be read, else 'estimated' from --device) and $ per 1M tokens (--device's hourly cost).\n"
        "In the same run llama.cpp's own llama-bench measures the same model with the same threads and token\n"
        "counts, and the table shows hiro/llama-bench.\n\n"
        "--matrix MODEL... --threads 1,2 measures every model at every thread count (each point in a fresh\n"
        "process), always with --cpu-time, and prints one table (--json, --plot too).\n"
        "--concurrency 1,2,4,8 serves that many requests at once in hiro's engine and in llama-server -np N\n"
        "and compares aggregate tok/s and per-request inter-token latency, then the reuse of a shared prompt prefix.\n"
        "Synthetic models at real sizes: bench/synthetic_gguf.py (docs/bench-and-record.md).");
    cmd->add_option("model", args->models, "GGUF model file (several with --matrix)")->required();
    cmd->add_option("--threads", args->threads, "CPU threads for both engines (default: every hardware thread; a list with --matrix)")
        ->delimiter(',');
    cmd->add_option("--prompt-tokens", args->engine.prompt_tokens, "prompt length of the pp test (of each request with --concurrency)")
        ->capture_default_str();
    cmd->add_option("--gen-tokens", args->engine.gen_tokens, "tokens generated in the tg test (by each request with --concurrency)")
        ->capture_default_str();
    cmd->add_option("--repetitions", args->engine.repetitions, "measured runs of each test (after one warm-up)")->capture_default_str();
    cmd->add_flag("--cpu-time", args->engine.cpu_time,
                  "also rate hiro and llama-bench's own pp and tg loops (run in turn with hiro's, in this process) in tokens\n"
                  "per CPU-second, which other load on a shared machine moves much less than wall clock");
    cmd->add_flag("--no-mmap{false}", args->engine.mmap,
                  "read the weights into memory instead of mapping the file, in hiro and in llama-bench and llama-server (-lm none):\n"
                  "mapped pages the kernel reclaims under memory pressure come back as stalls mid-generation");
    cmd->add_option("--device", args->device,
                    "device whose power draw estimates the energy when RAPL is unreadable, and whose hourly cost prices\n"
                    "the tokens: a name in --profiles (mcu, pi, raspberry-pi-5, jetson, jetson-orin-nano, cloud-gpu-a100)");
    args->profiles = std::string(HIRO_CONFIG_DIR) + "/edge/profiles.yaml";
    cmd->add_option("--profiles", args->profiles, "device profiles (YAML; the same file hiro hi and hiro simulate read)")->capture_default_str();
    args->llama_bench = HIRO_LLAMA_BENCH;
    cmd->add_option("--llama-bench", args->llama_bench, "llama.cpp's llama-bench binary")->capture_default_str();
    cmd->add_flag("--no-llama-bench", args->skip_llama_bench, "measure hiro only");
    cmd->add_flag("--matrix", args->matrix, "measure every model at every --threads value and print one table");
    cmd->add_option("--concurrency", args->concurrency,
                    "concurrent request counts, e.g. 1,2,4,8: hiro's engine (one batch, a sequence per request) against\n"
                    "llama-server -np N (continuous batching), aggregate tok/s and per-request inter-token latency")
        ->delimiter(',');
    args->llama_server = HIRO_LLAMA_SERVER;
    cmd->add_option("--llama-server", args->llama_server, "llama.cpp's llama-server binary (--concurrency)")->capture_default_str();
    cmd->add_option("--rounds", args->concurrency_rounds,
                    "with --concurrency: rounds per level, each loading both sides afresh and running them in turn, taking turns to go first;\n"
                    "each figure is the median of its rounds, each ratio the median of the rounds' ratios")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--shared-prefix", args->shared_prefix,
                    "with --concurrency: tokens of the prompt prefix shared by the prefix-reuse test's requests (0 = skip it)")
        ->capture_default_str();
    cmd->add_option("--json", args->json, "write the results as JSON to this file ('-' = stdout, no table)");
    cmd->add_option("--plot", args->plot,
                    "write an SVG: the inter-token latency distribution; with --matrix tok/s against memory, and beside it\n"
                    "(FILE-energy.svg) tokens per joule against bits per weight (the quantization)");
    cmd->callback([args] { run_bench(*args); });
}

}  // namespace hiro::cli
