#pragma once

#include <optional>
#include <string>

#include <chat.h>

#include "core/query.h"
#include "engine/engine.h"

namespace hiro::backends {

// An OpenAI request read the way llama-server reads it, for the in-process
// engine, through llama-common: the chat rendered by the model's template
// with its tools, tool calls and tool results; a JSON schema, response format
// or grammar turned into a grammar; llama-server's sampling chain and its
// defaults for what the client (and the tier's config) left out. A field the
// engine cannot honour is refused with an invalid_input Error naming it,
// never silently ignored.
struct LocalRequest {
    engine::GenerationRequest generation;
    int n = 1;              // choices, each generated on its own
    bool logprobs = false;  // per-token logprobs in the answer (the client's, or hiro's to judge it)
    // Chat: how to read the generated text back into a message (content,
    // tool calls, reasoning), as llama-server does.
    std::optional<common_chat_parser_params> parser;
};

LocalRequest read_local_request(const engine::Model& model, const core::Query& query, const core::Json& defaults, bool need_logprobs);

}  // namespace hiro::backends
