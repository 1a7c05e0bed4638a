#include "engine/token_scores.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace hiro::engine {

core::TokenLogprob score_token(const Model& model, const float* logits, Token chosen, int top) {
    const int n = model.vocab_size();
    const float max_logit = *std::max_element(logits, logits + n);
    // In float, as llama-server's softmax: every generated token pays for a
    // pass over the whole vocabulary (150K entries for Qwen2.5), and float's
    // exp costs half of double's.
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += std::exp(logits[i] - max_logit);
    const double log_sum = std::log(sum);
    auto logprob = [&](Token t) { return static_cast<double>(logits[t] - max_logit) - log_sum; };

    core::TokenLogprob scored;
    scored.id = chosen;
    scored.text = model.piece(chosen);
    scored.logprob = logprob(chosen);
    const int k = std::clamp(top, 0, n);
    if (k > 0) {
        std::vector<Token> ids(static_cast<std::size_t>(n));
        std::iota(ids.begin(), ids.end(), 0);
        std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](Token a, Token b) { return logits[a] > logits[b]; });
        scored.top.reserve(static_cast<std::size_t>(k));
        for (int i = 0; i < k; ++i) scored.top.push_back({ids[static_cast<std::size_t>(i)], model.piece(ids[static_cast<std::size_t>(i)]), logprob(ids[static_cast<std::size_t>(i)])});
    }
    return scored;
}

}  // namespace hiro::engine
