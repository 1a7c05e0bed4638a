// hiro bench --matrix: models x threads, hiro against llama-bench at each point.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "bench/llama_bench.h"
#include "cli/bench_args.h"
#include "cli/output_files.h"
#include "core/error.h"
#include "eval/svg_chart.h"

namespace hiro::cli {
namespace {

using bench::shell_quoted;

// One point in a fresh `hiro bench` process: its peak RSS and load time are
// its own, not the largest model's so far. Its progress goes to stderr.
nlohmann::json run_point(const BenchArgs& a, const std::string& model, int threads) {
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string command = shell_quoted(self) + " bench " + shell_quoted(model) + " --threads " + std::to_string(threads) + " --prompt-tokens " +
                          std::to_string(a.engine.prompt_tokens) + " --gen-tokens " + std::to_string(a.engine.gen_tokens) + " --repetitions " +
                          std::to_string(a.engine.repetitions) + " --cpu-time --profiles " + shell_quoted(a.profiles) + " --json -";
    command += a.skip_llama_bench ? " --no-llama-bench" : " --llama-bench " + shell_quoted(a.llama_bench);
    if (!a.device.empty()) command += " --device " + shell_quoted(a.device);
    if (!a.engine.mmap) command += " --no-mmap";
    spdlog::info("matrix point: {} at {} threads", model, threads);
    const bench::ShellOutput run = bench::run_shell(command);
    if (!run.ok()) {
        throw core::Error(core::ErrorCode::upstream, fmt::format("hiro bench {} --threads {} failed: {}", model, threads, run.out.substr(0, 1000)));
    }
    nlohmann::json point = nlohmann::json::parse(run.out);
    // llama.cpp's description ends with the file type after the architecture
    // and the size, e.g. "llama 1B Q4_K - Medium" or "llama ?B (guessed) all F32".
    std::string quantization = point["description"];
    for (int word = 0; word < 2 && quantization.find(' ') != std::string::npos; ++word) quantization.erase(0, quantization.find(' ') + 1);
    if (quantization.starts_with("(guessed) ")) quantization.erase(0, 10);
    point["quantization"] = quantization;
    point["name"] = std::filesystem::path(model).stem().string();
    point["bits_per_weight"] = point["size_bytes"].get<double>() * 8.0 / point["parameters"].get<double>();
    return point;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

std::string ratio_text(const nlohmann::json& p, const char* group, const char* test) {
    return p.contains(group) ? fmt::format("{:.3f}", p[group][test].get<double>()) : "-";
}

void print_matrix(const BenchArgs& a, const std::vector<nlohmann::json>& points) {
    std::cout << fmt::format("hiro bench --matrix: pp{} / tg{}, {} repetitions each; tok/s wall clock; ratios hiro/llama-bench in wall clock, and\n"
                             "in CPU time (tokens per CPU-second of hiro's fastest run / of llama-bench's own loops' fastest, run in turn in one process)\n",
                             a.engine.prompt_tokens, a.engine.gen_tokens, a.engine.repetitions);
    std::cout << fmt::format("{:<28} {:<14} {:>3} {:>8} {:>9} {:>9} {:>6} {:>6} {:>8} {:>8} {:>6} {:>6} {:>9} {:>8} {:>9} {:>9} {:>8} {:>9}\n",
                             "model", "quantization", "thr", "MiB", "pp hiro", "pp llama", "wall", "CPU", "tg hiro", "tg llama", "wall", "CPU",
                             "TTFT ms", "ITL ms", "RSS MiB", "load ms", "tok/J", "$/1M tok");
    for (const auto& p : points) {
        const auto& h = p["hiro"];
        const bool ref = !p["llama_bench"].is_null();
        std::cout << fmt::format(
            "{:<28} {:<14} {:>3} {:>8.0f} {:>9.1f} {:>9} {:>6} {:>6} {:>8.2f} {:>8} {:>6} {:>6} {:>9.1f} {:>8.2f} {:>9.0f} {:>9.0f} {:>8} {:>9}\n",
            p["name"].get<std::string>(), p["quantization"].get<std::string>(), p["threads"].get<int>(), mib(p["size_bytes"].get<double>()),
            h["pp_tokens_per_s"]["mean"].get<double>(), ref ? fmt::format("{:.1f}", p["llama_bench"]["pp_tokens_per_s"]["mean"].get<double>()) : "-",
            ratio_text(p, "ratio", "pp"), ratio_text(p, "cpu_ratio", "pp"), h["tg_tokens_per_s"]["mean"].get<double>(),
            ref ? fmt::format("{:.2f}", p["llama_bench"]["tg_tokens_per_s"]["mean"].get<double>()) : "-", ratio_text(p, "ratio", "tg"),
            ratio_text(p, "cpu_ratio", "tg"), h["ttft_ms"]["mean"].get<double>(), h["itl_p50_ms"].get<double>(), mib(h["peak_rss_bytes"].get<double>()),
            h["load_ms"].get<double>(), p["energy"].is_null() ? "-" : fmt::format("{:.2f}", p["energy"]["tg_tokens_per_joule"].get<double>()),
            p["usd_per_million_tokens"].is_null() ? "-" : fmt::format("{:.3f}", p["usd_per_million_tokens"].get<double>()));
    }
    if (!points.empty() && !points[0]["energy"].is_null()) {
        std::cout << "energy " << points[0]["energy"]["label"].get<std::string>() << ": " << points[0]["energy"]["source"].get<std::string>() << "\n";
    }
}

std::string point_label(const nlohmann::json& p) { return fmt::format("{} t{}", p["name"].get<std::string>(), p["threads"].get<int>()); }

// The model without its quantization: the file name up to its last '-'
// ("synthetic-llama-3.2-1b-Q4_0" -> "synthetic-llama-3.2-1b").
std::string shape_of(const nlohmann::json& p) {
    const std::string name = p["name"];
    const auto dash = name.rfind('-');
    return dash == std::string::npos ? name : name.substr(0, dash);
}

// Generation speed against the memory it took: the edge's two scarce resources.
void write_speed_plot(const std::string& path, const std::vector<nlohmann::json>& points) {
    eval::SvgChart chart("Generation speed against memory", "peak RSS of hiro (MiB)", "hiro tg (tokens/s)");
    static const std::array<const char*, 4> colors = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
    std::map<int, std::size_t> color_of_threads;
    for (const auto& p : points) {
        const int threads = p["threads"].get<int>();
        const auto color = colors[color_of_threads.try_emplace(threads, color_of_threads.size() % colors.size()).first->second];
        chart.add_point(mib(p["hiro"]["peak_rss_bytes"].get<double>()), p["hiro"]["tg_tokens_per_s"]["mean"].get<double>(), point_label(p), color);
    }
    chart.write(path);
}

// Tokens per joule against bits per weight, one line per model shape and thread count.
void write_energy_plot(const std::string& path, const std::vector<nlohmann::json>& points) {
    std::map<std::string, std::vector<std::pair<double, double>>> lines;
    for (const auto& p : points) {
        if (p["energy"].is_null()) continue;
        lines[fmt::format("{} t{}", shape_of(p), p["threads"].get<int>())].emplace_back(
            p["bits_per_weight"].get<double>(), p["energy"]["tg_tokens_per_joule"].get<double>());
    }
    if (lines.empty()) return;
    eval::SvgChart chart("Generated tokens per joule against quantization", "bits per weight (file size x 8 / parameters)", "tokens per joule");
    chart.add_note("energy " + points[0]["energy"]["label"].get<std::string>());
    static const std::array<const char*, 6> colors = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
    std::size_t i = 0;
    for (auto& [label, line] : lines) {
        std::sort(line.begin(), line.end());
        chart.add_line(std::move(line), label, colors[i++ % colors.size()]);
    }
    chart.write(path);
}

}  // namespace

void run_bench_matrix(const BenchArgs& a) {
    const std::vector<int> threads = a.threads.empty() ? std::vector<int>{0} : a.threads;
    std::vector<nlohmann::json> points;
    for (const auto& model : a.models) {
        if (!std::filesystem::is_regular_file(model)) throw core::Error(core::ErrorCode::not_found, "model file " + model + " does not exist");
    }
    for (const auto& model : a.models) {
        for (int t : threads) points.push_back(run_point(a, model, t));
    }
    if (a.json != "-") print_matrix(a, points);
    if (!a.json.empty()) {
        write_json(a.json, nlohmann::json{{"prompt_tokens", a.engine.prompt_tokens},
                                          {"gen_tokens", a.engine.gen_tokens},
                                          {"repetitions", a.engine.repetitions},
                                          {"points", points}});
        if (a.json != "-") spdlog::info("wrote {}", a.json);
    }
    if (!a.plot.empty()) {
        write_speed_plot(a.plot, points);
        const std::string energy = std::filesystem::path(a.plot).replace_extension().string() + "-energy.svg";
        write_energy_plot(energy, points);
        spdlog::info("wrote {} and {}", a.plot, energy);
    }
}

}  // namespace hiro::cli
