#include "engine/chat_template.h"

#include "core/error.h"

namespace hiro::engine {

ChatTemplate::ChatTemplate(const llama_model* model, std::string model_path) : model_path_(std::move(model_path)) {
    try {
        templates_ = std::shared_ptr<common_chat_templates>(common_chat_templates_init(model, "").release(), common_chat_templates_free);
    } catch (const std::exception& e) {
        error_ = e.what();
    }
}

const common_chat_templates& ChatTemplate::templates() const {
    if (!templates_) throw core::Error(core::ErrorCode::unsupported, "the chat template of " + model_path_ + " does not parse (" + error_ + "); send a raw prompt instead");
    return *templates_;
}

std::string ChatTemplate::apply(const std::vector<core::ChatMessage>& messages) const {
    common_chat_templates_inputs inputs;
    for (const auto& m : messages) {
        common_chat_msg msg;
        msg.role = m.role;
        msg.content = m.content;
        inputs.messages.push_back(std::move(msg));
    }
    try {
        return common_chat_templates_apply(&templates(), inputs).prompt;
    } catch (const core::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw core::Error(core::ErrorCode::unsupported, "the chat template of " + model_path_ + " failed on these messages: " + e.what());
    }
}

common_chat_params ChatTemplate::apply(const common_chat_templates_inputs& inputs) const {
    try {
        return common_chat_templates_apply(&templates(), inputs);
    } catch (const core::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw core::Error(core::ErrorCode::invalid_input, "the chat template of " + model_path_ + " refused the request: " + e.what());
    }
}

bool ChatTemplate::supports_parallel_tool_calls() const {
    const auto caps = common_chat_templates_get_caps(&templates());
    const auto it = caps.find("supports_parallel_tool_calls");
    return it != caps.end() && it->second;
}

}  // namespace hiro::engine
