#pragma once

#include <string>
#include <vector>

namespace hiro::bench {

// The local tier under concurrency: N requests at once in hiro's engine
// (in-process, batched decoding) and in llama.cpp's llama-server with -np N
// (continuous batching, over loopback HTTP), on the same model, threads and
// work: a random prompt of `prompt_tokens` each, then `gen_tokens` greedy
// tokens past any end-of-generation token.
struct ConcurrencyOptions {
    std::string model;
    std::string llama_server;
    int threads = 0;  // 0 = every hardware thread
    bool mmap = true; // false: weights read into memory on both sides (llama-server -lm none)
    int prompt_tokens = 16;
    int gen_tokens = 64;
    std::vector<int> levels = {1, 2, 4, 8};
    // Rounds per level: each loads both sides afresh and runs them in turn,
    // taking turns to go first, so that each round's ratio compares runs
    // seconds apart; each figure is the median of its rounds (single runs
    // swing by 20% on a shared machine).
    int rounds = 1;
    // The shared-prefix test: requests one after another, each a shared
    // prefix (a system prompt) of this many tokens plus its own
    // prompt_tokens; 0 = skip it.
    int shared_prefix_tokens = 256;
    int shared_prefix_requests = 4;
};

struct ConcurrencySide {
    double tokens_per_s = 0.0;      // generated tokens of all requests / wall time of the level
    double cpu_tokens_per_s = 0.0;  // the same per CPU-second of the serving process
    double itl_ms = 0.0;            // per-request mean inter-token latency, averaged over requests
};

struct ConcurrencyLevel {
    int requests = 0;
    ConcurrencySide hiro, llama_server;  // medians over the rounds
    std::vector<double> ratios;          // hiro / llama-server tok/s, each round
    std::vector<double> cpu_ratios;      // the same per CPU-second
    double ratio() const;                // the medians of the rounds' ratios
    double cpu_ratio() const;
};

// Later requests of the shared-prefix test: how much of their prompt was
// decoded and how long that took (prefill, before the first token).
struct PrefixSide {
    double prompt_ms = 0.0;
    double prompt_tokens_decoded = 0.0;
};

struct PrefixReuse {
    int prefix_tokens = 0;
    int prompt_tokens = 0;  // prefix and question
    int requests = 0;
    PrefixSide hiro, llama_server;
};

struct ConcurrencyResult {
    std::vector<ConcurrencyLevel> levels;
    PrefixReuse prefix;
};

ConcurrencyResult run_concurrency_bench(const ConcurrencyOptions& options);

}  // namespace hiro::bench
