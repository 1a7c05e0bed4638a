#pragma once

#include <llama.h>

#include <chat.h>

#include <memory>
#include <string>
#include <vector>

#include "core/query.h"

namespace hiro::engine {

// A model's chat template rendered by llama.cpp's Jinja engine (llama-common),
// exactly as llama-server renders it: the template from the GGUF metadata, or
// ChatML when the model has none.
class ChatTemplate {
public:
    // Never throws: a template that does not parse is reported by apply().
    ChatTemplate(const llama_model* model, std::string model_path);

    // The prompt text for `messages`, ending with the assistant's turn. A
    // leading BOS the tokenizer adds anyway is left out. Throws an unsupported
    // Error when the template cannot be parsed or rendered.
    std::string apply(const std::vector<core::ChatMessage>& messages) const;

    // A whole OpenAI chat as llama-server renders it: messages with tool calls
    // and tool results, tools, a JSON schema or grammar; gives the prompt and
    // what generation and parsing need (grammar, triggers, extra stops, the
    // output parser). Throws an invalid_input Error for what the template or
    // llama-common refuses.
    common_chat_params apply(const common_chat_templates_inputs& inputs) const;
    bool supports_parallel_tool_calls() const;

private:
    const common_chat_templates& templates() const;

    std::shared_ptr<common_chat_templates> templates_;
    std::string error_;  // why the template did not parse
    std::string model_path_;
};

}  // namespace hiro::engine
