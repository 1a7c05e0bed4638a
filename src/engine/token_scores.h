#pragma once

#include "core/query.h"
#include "engine/model.h"

namespace hiro::engine {

// The log-probability of `chosen` and of the `top` most likely tokens under
// the softmax of the raw logits: the distribution before temperature or top-p,
// which is what llama-server reports as `logprob` / `top_logprobs` by default.
core::TokenLogprob score_token(const Model& model, const float* logits, Token chosen, int top);

}  // namespace hiro::engine
