#include "policy/token_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hiro::policy {

double mean_token_logprob(std::span<const core::TokenLogprob> tokens) {
    if (tokens.empty()) return -std::numeric_limits<double>::infinity();
    double sum = 0.0;
    for (const auto& t : tokens) sum += t.logprob;
    return sum / static_cast<double>(tokens.size());
}

std::vector<double> reported_distribution(const core::TokenLogprob& token) {
    std::vector<double> p;
    if (token.top.empty()) {
        p.push_back(std::exp(token.logprob));
    } else {
        for (const auto& alt : token.top) p.push_back(std::exp(alt.logprob));
    }
    double covered = 0.0;
    for (double x : p) covered += x;
    p.push_back(std::max(0.0, 1.0 - covered));
    return p;
}

}  // namespace hiro::policy
