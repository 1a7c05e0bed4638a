#include "bench/llama_bench.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace hiro::bench {
namespace {

std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string tail_of(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    const std::string all = s.str();
    return all.size() > 1500 ? all.substr(all.size() - 1500) : all;
}

}  // namespace

void check_llama_bench(const std::string& binary) {
    if (!std::filesystem::is_regular_file(binary)) {
        throw core::Error(core::ErrorCode::not_found, "llama-bench not found at " + binary + " (pass --llama-bench PATH, or --no-llama-bench)");
    }
}

namespace {

struct Invocation {
    nlohmann::json report;
    double cpu_seconds = 0.0;  // of the llama-bench process
};

Invocation invoke(const std::string& binary, const std::string& command) {
    const std::string log = (std::filesystem::temp_directory_path() / ("hiro-llama-bench-" + std::to_string(::getpid()) + ".log")).string();
    spdlog::info("llama-bench: {}", command);
    rusage before{};
    getrusage(RUSAGE_CHILDREN, &before);
    FILE* pipe = popen((command + " 2>" + quoted(log)).c_str(), "r");
    if (pipe == nullptr) throw core::Error(core::ErrorCode::io, "cannot start " + binary);
    std::string out;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
    const int status = pclose(pipe);
    rusage after{};
    getrusage(RUSAGE_CHILDREN, &after);
    const std::string err = tail_of(log);
    std::filesystem::remove(log);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw core::Error(core::ErrorCode::upstream, "llama-bench failed (exit status " + std::to_string(status) + "): " + err);
    }
    auto seconds = [](const rusage& u) {
        return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    try {
        return {nlohmann::json::parse(out), seconds(after) - seconds(before)};
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::upstream, std::string("llama-bench's JSON report could not be read: ") + e.what());
    }
}

// Reads the pp and tg results of a report into `r`.
void read_report(const nlohmann::json& report, LlamaBenchResult& r) {
    try {
        for (const auto& test : report) {
            const Spread s{test.at("avg_ts").get<double>(), test.at("stddev_ts").get<double>()};
            if (test.at("n_gen").get<int>() > 0) r.tg_tokens_per_s = s;
            else r.pp_tokens_per_s = s;
        }
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::upstream, std::string("llama-bench's JSON report could not be read: ") + e.what());
    }
}

}  // namespace

LlamaBenchResult run_llama_bench(const std::string& binary, const EngineBenchOptions& o, int threads) {
    check_llama_bench(binary);
    LlamaBenchResult r;
    const auto command = [&](int prompt, int gen, int repetitions) {
        return quoted(binary) + " -m " + quoted(o.model) + " -t " + std::to_string(threads) + " -p " + std::to_string(prompt) + " -n " +
               std::to_string(gen) + " -r " + std::to_string(repetitions) + " -o json";
    };
    if (!o.cpu_time) {
        r.command = command(o.prompt_tokens, o.gen_tokens, o.repetitions);
        read_report(invoke(binary, r.command).report, r);
    } else {
        if (o.repetitions < 2) throw core::Error(core::ErrorCode::invalid_input, "CPU-time rates need --repetitions of at least 2");
        r.command = command(o.prompt_tokens, 0, o.repetitions) + "; " + command(0, o.gen_tokens, o.repetitions) + " (and each with -r 1)";
        const Invocation pp = invoke(binary, command(o.prompt_tokens, 0, o.repetitions));
        const Invocation pp_once = invoke(binary, command(o.prompt_tokens, 0, 1));
        const Invocation tg = invoke(binary, command(0, o.gen_tokens, o.repetitions));
        const Invocation tg_once = invoke(binary, command(0, o.gen_tokens, 1));
        read_report(pp.report, r);
        read_report(tg.report, r);
        const double runs = o.repetitions - 1;
        r.pp_cpu_tokens_per_s = o.prompt_tokens * runs / (pp.cpu_seconds - pp_once.cpu_seconds);
        r.tg_cpu_tokens_per_s = o.gen_tokens * runs / (tg.cpu_seconds - tg_once.cpu_seconds);
    }
    // The largest peak RSS among reaped children: llama-bench is the only one.
    rusage children{};
    getrusage(RUSAGE_CHILDREN, &children);
    r.peak_rss_bytes = static_cast<std::int64_t>(children.ru_maxrss) * 1024;
    return r;
}

}  // namespace hiro::bench
