#pragma once

#include <cstdint>
#include <string>

#include "bench/engine_bench.h"

namespace hiro::bench {

// llama.cpp's own llama-bench on the same model, threads and token counts.
struct LlamaBenchResult {
    std::string command;
    Spread pp_tokens_per_s;
    Spread tg_tokens_per_s;
    std::int64_t peak_rss_bytes = 0;  // of the llama-bench process
};

// Throws the not_found Error run_llama_bench would, before any time is spent.
void check_llama_bench(const std::string& binary);

// `s` as one word for /bin/sh: in single quotes, its own single quotes escaped.
std::string shell_quoted(const std::string& s);

// What a /bin/sh command printed on stdout, and whether it exited 0. Throws
// an io Error when it cannot be started.
struct ShellOutput {
    std::string out;
    int status = 0;  // as pclose gives it
    bool ok() const;
};
ShellOutput run_shell(const std::string& command);

// Runs `binary -m MODEL -t T -p P -n G -r R -o json` and reads its report.
// Throws not_found when the binary is missing and upstream (with its last
// output) when it fails.
LlamaBenchResult run_llama_bench(const std::string& binary, const EngineBenchOptions& options, int threads);

}  // namespace hiro::bench
