#include "engine/token_scores.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <numeric>
#include <vector>

namespace hiro::engine {

namespace {

using Floats = float __attribute__((vector_size(32)));
using Ints = std::int32_t __attribute__((vector_size(32)));
constexpr int lanes = 8;

// e^x for x <= 0 in 8 lanes, to float precision (Cephes' expf: x = n ln2 + r,
// e^r by a polynomial, 2^n in the exponent bits); below -87 it is e^-87, nil
// beside a sum of at least 1.
Floats exp_nonpositive(Floats x) {
    x = x < -87.0f ? Floats{} - 87.0f : x;
    const Ints n = __builtin_convertvector(x * 1.44269504088896341f - 0.5f, Ints);  // round to nearest, x <= 0
    const Floats nf = __builtin_convertvector(n, Floats);
    const Floats r = x - nf * 0.693359375f + nf * 2.12194440e-4f;
    Floats p = Floats{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const Ints bits = (n + 127) << 23;
    Floats scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// log(sum(e^(logit - max))) and max: every generated token pays for this pass
// over the whole vocabulary (152K entries for Qwen2.5), so it runs 8 lanes at
// a time.
std::pair<float, double> log_sum_exp(const float* logits, int n) {
    const int whole = n - n % lanes;
    Floats maxima = Floats{} - INFINITY;
    for (int i = 0; i < whole; i += lanes) {
        Floats x;
        std::memcpy(&x, logits + i, sizeof x);
        maxima = x > maxima ? x : maxima;
    }
    float max_logit = -INFINITY;
    for (int k = 0; k < lanes; ++k) max_logit = std::max(max_logit, maxima[k]);
    for (int i = whole; i < n; ++i) max_logit = std::max(max_logit, logits[i]);
    Floats sums{};
    for (int i = 0; i < whole; i += lanes) {
        Floats x;
        std::memcpy(&x, logits + i, sizeof x);
        sums += exp_nonpositive(x - max_logit);
    }
    double sum = 0.0;
    for (int k = 0; k < lanes; ++k) sum += sums[k];
    for (int i = whole; i < n; ++i) sum += std::exp(logits[i] - max_logit);
    return {max_logit, std::log(sum)};
}

}  // namespace

core::TokenLogprob score_token(const Model& model, const float* logits, Token chosen, int top) {
    const int n = model.vocab_size();
    const auto [max_logit, log_sum] = log_sum_exp(logits, n);
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
