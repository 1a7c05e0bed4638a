#pragma once

#include <ggml-cpu.h>
#include <llama.h>

#include <random>

#include "engine/model.h"

namespace hiro::bench {

// llama-bench's own measuring loops (its test_prompt and test_gen), run in
// this process on a plain llama.cpp context with the engine's threads, batch
// sizes and a threadpool: the reference for CPU-time rates. llama-bench's CPU
// time can only be read for its whole process (loading and warm-up
// included); these loops' can be read for exactly the measured runs.
class LlamaBenchLoops {
public:
    LlamaBenchLoops(const engine::Model& model, int context);
    ~LlamaBenchLoops();
    LlamaBenchLoops(const LlamaBenchLoops&) = delete;
    LlamaBenchLoops& operator=(const LlamaBenchLoops&) = delete;

    // `n` random tokens (BOS first) into an empty context, a batch at a time.
    void prompt(int n);
    // `n` single-token decodes from an empty context: BOS, then random tokens.
    void generate(int n);

private:
    const engine::Model& model_;
    llama_context* ctx_ = nullptr;
    ggml_threadpool* threads_ = nullptr;
    std::mt19937 rng_{1};
};

}  // namespace hiro::bench
