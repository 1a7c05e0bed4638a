#include "core/query.h"

namespace hiro::core {

Query chat_query(std::string id, const std::vector<std::pair<std::string, std::string>>& messages, Json fields) {
    Query q{std::move(id), Endpoint::chat, std::move(fields)};
    auto& list = q.body["messages"] = Json::array();
    for (const auto& [role, content] : messages) list.push_back({{"role", role}, {"content", content}});
    return q;
}

Query prompt_query(std::string id, std::string prompt, Json fields) {
    Query q{std::move(id), Endpoint::completions, std::move(fields)};
    q.body["prompt"] = std::move(prompt);
    return q;
}

std::string policy_text(const Query& query) {
    const auto& body = query.body;
    if (query.endpoint == Endpoint::completions) {
        auto prompt = body.find("prompt");
        return prompt != body.end() && prompt->is_string() ? prompt->get<std::string>() : std::string();
    }
    auto messages = body.find("messages");
    if (messages == body.end() || !messages->is_array()) return {};
    for (auto m = messages->rbegin(); m != messages->rend(); ++m) {
        if (!m->is_object() || m->value("role", "") != "user") continue;
        const auto content = m->find("content");
        if (content == m->end()) return {};
        if (content->is_string()) return content->get<std::string>();
        std::string text;
        if (content->is_array()) {
            for (const auto& part : *content) {
                if (part.is_object() && part.value("type", "") == "text" && part.contains("text") && part["text"].is_string()) {
                    text += part["text"].get<std::string>();
                }
            }
        }
        return text;
    }
    return {};
}

Query continued_query(Query query, const std::string& text, std::int64_t tokens) {
    if (query.endpoint == Endpoint::chat) {
        query.body["messages"].push_back({{"role", "assistant"}, {"content", text}});
    } else {
        query.body["prompt"] = query.body["prompt"].get<std::string>() + text;
    }
    for (const char* key : {"max_tokens", "max_completion_tokens"}) {
        if (query.body.contains(key) && query.body[key].is_number_integer()) {
            query.body[key] = std::max<std::int64_t>(1, query.body[key].get<std::int64_t>() - tokens);
        }
    }
    return query;
}

}  // namespace hiro::core
