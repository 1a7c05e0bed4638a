#pragma once

#include <span>
#include <vector>

#include "core/query.h"

namespace hiro::policy {

// Mean log-probability of the generated tokens, i.e. -log(perplexity);
// -inf for no tokens (nothing generated: no confidence).
double mean_token_logprob(std::span<const core::TokenLogprob> tokens);

// The probabilities of the reported alternatives at one position, most likely
// first (the chosen token alone when none were reported), plus one last
// bucket holding the mass the report leaves out.
std::vector<double> reported_distribution(const core::TokenLogprob& token);

}  // namespace hiro::policy
