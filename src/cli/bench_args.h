#pragma once

#include <string>
#include <vector>

#include "bench/engine_bench.h"

namespace hiro::cli {

// `hiro bench`'s options: one model (the default), the --matrix of models x
// threads, or the --concurrency levels against llama-server.
struct BenchArgs {
    std::vector<std::string> models;
    std::vector<int> threads;               // one value except with --matrix
    bench::EngineBenchOptions engine;       // model and threads filled per run
    std::string device;
    std::string profiles;
    std::string llama_bench;
    std::string llama_server;
    bool skip_llama_bench = false;
    bool matrix = false;
    std::vector<int> concurrency;
    int shared_prefix = 256;
    int concurrency_rounds = 5;
    std::string json;
    std::string plot;
};

// --matrix: every model at every thread count, each point in a fresh `hiro
// bench` process (so that its peak RSS and load time are its own).
void run_bench_matrix(const BenchArgs& args);

// --concurrency: hiro's engine against llama-server -np N at each level.
void run_bench_concurrency(const BenchArgs& args);

}  // namespace hiro::cli
