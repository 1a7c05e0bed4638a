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

std::string shell_quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

bool ShellOutput::ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

ShellOutput run_shell(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) throw core::Error(core::ErrorCode::io, "cannot start " + command);
    ShellOutput r;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    r.status = pclose(pipe);
    return r;
}

namespace {

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

LlamaBenchResult run_llama_bench(const std::string& binary, const EngineBenchOptions& o, int threads) {
    check_llama_bench(binary);
    LlamaBenchResult r;
    r.command = shell_quoted(binary) + " -m " + shell_quoted(o.model) + " -t " + std::to_string(threads) + " -p " + std::to_string(o.prompt_tokens) +
                " -n " + std::to_string(o.gen_tokens) + " -r " + std::to_string(o.repetitions) + (o.mmap ? "" : " -lm none") + " -o json";
    const std::string log = (std::filesystem::temp_directory_path() / ("hiro-llama-bench-" + std::to_string(::getpid()) + ".log")).string();
    spdlog::info("llama-bench: {}", r.command);
    const ShellOutput run = run_shell(r.command + " 2>" + shell_quoted(log));
    // The largest peak RSS among reaped children: llama-bench is the only one.
    rusage children{};
    getrusage(RUSAGE_CHILDREN, &children);
    r.peak_rss_bytes = static_cast<std::int64_t>(children.ru_maxrss) * 1024;
    const std::string err = tail_of(log);
    std::filesystem::remove(log);
    if (!run.ok()) {
        throw core::Error(core::ErrorCode::upstream, "llama-bench failed (exit status " + std::to_string(run.status) + "): " + err);
    }
    try {
        for (const auto& test : nlohmann::json::parse(run.out)) {
            const Spread s{test.at("avg_ts").get<double>(), test.at("stddev_ts").get<double>()};
            if (test.at("n_gen").get<int>() > 0) r.tg_tokens_per_s = s;
            else r.pp_tokens_per_s = s;
        }
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::upstream, std::string("llama-bench's JSON report could not be read: ") + e.what());
    }
    return r;
}

}  // namespace hiro::bench
