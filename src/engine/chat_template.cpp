#include "engine/chat_template.h"

#include <chat.h>

#include "core/error.h"

namespace hiro::engine {

ChatTemplate::ChatTemplate(const llama_model* model, std::string model_path) : model_path_(std::move(model_path)) {
    try {
        templates_ = std::shared_ptr<common_chat_templates>(common_chat_templates_init(model, "").release(), common_chat_templates_free);
    } catch (const std::exception& e) {
        error_ = e.what();
    }
}

std::string ChatTemplate::apply(const std::vector<core::ChatMessage>& messages) const {
    if (!templates_) throw core::Error(core::ErrorCode::unsupported, "the chat template of " + model_path_ + " does not parse (" + error_ + "); send a raw prompt instead");
    common_chat_templates_inputs inputs;
    for (const auto& m : messages) {
        common_chat_msg msg;
        msg.role = m.role;
        msg.content = m.content;
        inputs.messages.push_back(std::move(msg));
    }
    inputs.add_generation_prompt = true;
    inputs.use_jinja = true;
    try {
        return common_chat_templates_apply(templates_.get(), inputs).prompt;
    } catch (const std::exception& e) {
        throw core::Error(core::ErrorCode::unsupported, "the chat template of " + model_path_ + " failed on these messages: " + e.what());
    }
}

}  // namespace hiro::engine
