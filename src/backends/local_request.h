#pragma once

#include <string>

#include "core/query.h"
#include "engine/engine.h"

namespace hiro::backends {

// An OpenAI request read the way llama-server reads it, for the in-process
// engine: the chat rendered by the model's template (or the raw prompt) and
// the sampling fields, with llama-server's defaults where the client (and
// the tier's config) left them out. A field the engine cannot honour is
// refused with an invalid_input Error naming it, never silently ignored.
struct LocalRequest {
    engine::GenerationRequest generation;
    bool logprobs = false;  // per-token logprobs in the answer (the client's, or hiro's to judge it)
};

LocalRequest read_local_request(const engine::Model& model, const core::Query& query, const core::Json& defaults, bool need_logprobs);

}  // namespace hiro::backends
