// hiro bench: the in-process engine's speed, memory and energy on this
// machine, side by side with llama.cpp's own llama-bench.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "bench/concurrency_bench.h"
#include "bench/engine_bench.h"
#include "bench/llama_bench.h"
#include "cli/commands.h"
#include "cli/output_files.h"
#include "core/edge_profiles.h"
#include "eval/svg_chart.h"

namespace hiro::cli {
namespace {

struct BenchArgs {
    bench::EngineBenchOptions engine;
    std::string device;
    std::string profiles;
    std::string llama_bench = HIRO_LLAMA_BENCH;
    bool skip_llama_bench = false;
    int parallel = 0;
    std::string json;
    std::string plot;
};

// Energy per token: RAPL where the kernel lets us read it, else the device
// profile's power draw times the measured time per token.
struct EnergyPerToken {
    double pp = 0.0, tg = 0.0;
    std::string label;   // "measured" or "estimated"
    std::string source;
};

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
                 const std::optional<EnergyPerToken>& energy, const std::optional<bench::ConcurrencyResult>& concurrency) {
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
    std::cout << fmt::format("  {:<34} {:>18} {:>18}\n", "peak RSS (MiB)", fmt::format("{:.1f}", mib(r.peak_rss_bytes)),
                             ref ? fmt::format("{:.1f}", mib(ref->peak_rss_bytes)) : "-");
    std::cout << fmt::format("  {:<34} {:>18.2f}\n", "model load (ms)", r.load_ms);
    std::cout << fmt::format("  {:<34} {:>18}\n", fmt::format("time to first token, pp{} (ms)", o.prompt_tokens),
                             fmt::format("{:.3f} ± {:.3f}", r.ttft_ms.mean, r.ttft_ms.sd));
    std::cout << fmt::format("  {:<34} {:>18}\n", "inter-token latency p50 / p95 (ms)", fmt::format("{:.4f} / {:.4f}", r.itl_p50_ms, r.itl_p95_ms));
    if (concurrency) {
        std::cout << fmt::format("  {:<34} {:>18}\n", fmt::format("{} requests, context each (tok/s)", concurrency->requests),
                                 fmt::format("{:.1f}", concurrency->contexts_tokens_per_s));
        std::cout << fmt::format("  {:<34} {:>18}\n", fmt::format("{} requests, one batch (tok/s)", concurrency->requests),
                                 fmt::format("{:.1f}", concurrency->batched_tokens_per_s));
    }
    if (energy) {
        std::cout << fmt::format("  {:<34} {:>18}  {}\n", "energy per token pp / tg (mJ)",
                                 fmt::format("{:.4f} / {:.4f}", energy->pp * 1e3, energy->tg * 1e3), energy->label);
        std::cout << "  (" << energy->label << ": " << energy->source << ")\n";
    } else {
        std::cout << fmt::format("  {:<34} {:>18}\n", "energy per token", "unknown")
                  << "  (RAPL is not readable here; pass --device NAME for an estimate, e.g. --device raspberry-pi-5)\n";
    }
}

nlohmann::json to_json(const BenchArgs& a, const bench::EngineBenchResult& r, const std::optional<bench::LlamaBenchResult>& ref,
                       const std::optional<EnergyPerToken>& energy, const std::optional<bench::ConcurrencyResult>& concurrency) {
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
    };
    if (ref) {
        j["llama_bench"] = {{"command", ref->command},
                            {"pp_tokens_per_s", spread(ref->pp_tokens_per_s)},
                            {"tg_tokens_per_s", spread(ref->tg_tokens_per_s)},
                            {"peak_rss_bytes", ref->peak_rss_bytes}};
        j["ratio"] = {{"pp", r.pp_tokens_per_s.mean / ref->pp_tokens_per_s.mean}, {"tg", r.tg_tokens_per_s.mean / ref->tg_tokens_per_s.mean}};
    }
    if (concurrency) {
        j["concurrency"] = {{"requests", concurrency->requests},
                            {"contexts_tokens_per_s", concurrency->contexts_tokens_per_s},
                            {"batched_tokens_per_s", concurrency->batched_tokens_per_s}};
    }
    if (energy) {
        j["energy"] = {{"label", energy->label}, {"source", energy->source}, {"pp_joules_per_token", energy->pp}, {"tg_joules_per_token", energy->tg}};
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

void run_bench(const BenchArgs& a) {
    std::optional<core::DeviceProfile> device;
    if (!a.device.empty()) device = core::load_edge_profiles(a.profiles).device(a.device);
    if (!a.skip_llama_bench) bench::check_llama_bench(a.llama_bench);
    const bench::EngineBenchResult r = bench::run_engine_bench(a.engine);
    std::optional<bench::LlamaBenchResult> ref;
    if (!a.skip_llama_bench) ref = bench::run_llama_bench(a.llama_bench, a.engine, r.threads);
    std::optional<bench::ConcurrencyResult> concurrency;
    if (a.parallel > 0) concurrency = bench::run_concurrency_bench(a.engine, a.parallel);
    const auto energy = energy_of(r, device);
    if (a.json != "-") print_table(a, r, ref, energy, concurrency);
    if (!a.json.empty()) {
        write_json(a.json, to_json(a, r, ref, energy, concurrency));
        if (a.json != "-") spdlog::info("wrote {}", a.json);
    }
    if (!a.plot.empty()) {
        write_plot(a.plot, r);
        spdlog::info("wrote {}", a.plot);
    }
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto args = std::make_shared<BenchArgs>();
    CLI::App* cmd = app.add_subcommand("bench", "Measure a GGUF model in hiro's engine against llama.cpp's llama-bench");
    cmd->footer(
        "Measure a GGUF model in hiro's in-process engine: load time, prompt-processing and generation tokens/s,\n"
        "time to first token, inter-token latency p50/p95, peak RSS, and energy per token (RAPL 'measured' where\n"
        "the kernel lets it be read, else 'estimated' from --device). In the same run llama.cpp's own llama-bench\n"
        "measures the same model with the same threads and token counts, and the table shows hiro/llama-bench.");
    cmd->add_option("model", args->engine.model, "GGUF model file")->required();
    cmd->add_option("--threads", args->engine.threads, "CPU threads for both engines (default: every hardware thread)");
    cmd->add_option("--prompt-tokens", args->engine.prompt_tokens, "prompt length of the pp test")->capture_default_str();
    cmd->add_option("--gen-tokens", args->engine.gen_tokens, "tokens generated in the tg test")->capture_default_str();
    cmd->add_option("--repetitions", args->engine.repetitions, "measured runs of each test (after one warm-up)")->capture_default_str();
    cmd->add_option("--device", args->device,
                    "device whose power draw estimates the energy when RAPL is unreadable: a name in --profiles\n"
                    "(mcu, pi, raspberry-pi-5, jetson, jetson-orin-nano, cloud-gpu-a100)");
    args->profiles = std::string(HIRO_CONFIG_DIR) + "/edge/profiles.yaml";
    cmd->add_option("--profiles", args->profiles, "device profiles (YAML; the same file hiro hi and hiro simulate read)")->capture_default_str();
    cmd->add_option("--llama-bench", args->llama_bench, "llama.cpp's llama-bench binary")->capture_default_str();
    cmd->add_flag("--no-llama-bench", args->skip_llama_bench, "measure hiro only");
    cmd->add_option("--parallel", args->parallel,
                    "also serve N concurrent tg requests both ways: one context each (what the engine does) and N\n"
                    "sequences in one batch, and print each aggregate tok/s");
    cmd->add_option("--json", args->json, "write the results as JSON to this file ('-' = stdout, no table)");
    cmd->add_option("--plot", args->plot, "write an SVG of the inter-token latency distribution");
    cmd->callback([args] { run_bench(*args); });
}

}  // namespace hiro::cli
