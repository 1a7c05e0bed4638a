#pragma once

#include <string>

#include "bench/engine_bench.h"

namespace hiro::bench {

// The two ways to serve N requests at once from one loaded model, measured on
// the same generation work (greedy, log-probabilities scored, `gen_tokens`
// each): what hiro does (one context per request, decoded from N threads) and
// the alternative (N sequences advanced together in one batch per step).
struct ConcurrencyResult {
    int requests = 0;
    double contexts_tokens_per_s = 0.0;  // aggregate over all requests
    double batched_tokens_per_s = 0.0;
};

ConcurrencyResult run_concurrency_bench(const EngineBenchOptions& options, int requests);

}  // namespace hiro::bench
