#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hiro::bench {

// Mean and sample standard deviation over repetitions.
struct Spread {
    double mean = 0.0;
    double sd = 0.0;
};

Spread spread_of(const std::vector<double>& values);
double percentile(std::vector<double> values, double p);  // p in [0, 100], linear interpolation

struct EngineBenchOptions {
    std::string model;
    int threads = 0;  // 0 = every hardware thread
    int prompt_tokens = 512;
    int gen_tokens = 128;
    int repetitions = 5;
    bool mmap = true;       // false: weights read into memory, for hiro and llama-bench (-lm none)
    bool cpu_time = false;  // also rate hiro and llama-bench's loops per CPU-second (see llama_bench_loops.h)
};

// The in-process engine measured the way llama-bench measures llama.cpp:
// prompt processing (pp) decodes `prompt_tokens` random tokens into an empty
// context; text generation (tg) decodes `gen_tokens` tokens one at a time
// after a single BOS; one warm-up run of each first; the same thread count,
// batch sizes and threadpool. Unlike llama-bench, tg runs hiro's whole
// generation step (sampling, log-probabilities, detokenising), as served.
struct EngineBenchResult {
    std::string description;         // llama.cpp's model description
    std::uint64_t parameters = 0;
    std::uint64_t size_bytes = 0;
    int threads = 0;
    double load_ms = 0.0;
    Spread pp_tokens_per_s;
    Spread tg_tokens_per_s;
    Spread ttft_ms;                  // prompt of prompt_tokens to the first generated token
    double itl_p50_ms = 0.0;         // inter-token latency over every tg repetition
    double itl_p95_ms = 0.0;
    std::vector<double> itl_ms;
    // Tokens per CPU-second of the fastest measured run (pp counts the
    // prompt's tokens, tg every decoded token: BOS and gen_tokens), of hiro
    // and, with cpu_time, of llama-bench's loops run in turn with hiro's in
    // this process.
    double pp_cpu_tokens_per_s = 0.0;
    double tg_cpu_tokens_per_s = 0.0;
    double reference_pp_cpu_tokens_per_s = 0.0;
    double reference_tg_cpu_tokens_per_s = 0.0;
    std::int64_t peak_rss_bytes = 0;
    std::optional<double> pp_joules_per_token;  // RAPL, when readable
    std::optional<double> tg_joules_per_token;
};

EngineBenchResult run_engine_bench(const EngineBenchOptions& options);

}  // namespace hiro::bench
