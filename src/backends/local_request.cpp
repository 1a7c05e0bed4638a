#include "backends/local_request.h"

#include <random>
#include <set>

#include "core/error.h"
#include "core/openai_request.h"

namespace hiro::backends {
namespace {

using core::Json;

[[noreturn]] void refuse(const std::string& what) { throw core::Error(core::ErrorCode::invalid_input, what); }

// The text of a message's content: a string, or text parts joined.
std::string content_text(const Json& content, std::size_t index) {
    if (content.is_string()) return content.get<std::string>();
    std::string text;
    if (content.is_null()) return text;
    for (const auto& part : content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
            refuse("'messages[" + std::to_string(index) + "].content' parts must be {\"type\": \"text\", \"text\": ...} for a local tier");
        }
        text += part["text"].get<std::string>();
    }
    return text;
}

template <class T>
T number(const Json& body, const char* key, T fallback) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_number()) refuse(std::string("'") + key + "' must be a number");
    return it->get<T>();
}

}  // namespace

LocalRequest read_local_request(const engine::Model& model, const core::Query& query, const Json& defaults, bool need_logprobs) {
    Json body = query.body;
    for (const auto& [key, value] : defaults.items()) {
        if (!body.contains(key)) body[key] = value;
    }
    // What this tier understands; anything else would change the answer's meaning if ignored.
    static const std::set<std::string> understood{"messages", "prompt", "max_tokens", "max_completion_tokens", "temperature", "top_p",
                                                  "seed", "stop", "logprobs", "top_logprobs", "n", "user"};
    for (const auto& [key, value] : body.items()) {
        if (!understood.count(key) && !value.is_null()) refuse("'" + key + "' is not supported by local tiers");
    }
    if (number<int>(body, "n", 1) != 1) refuse("'n' must be 1 for local tiers");

    LocalRequest r;
    auto& g = r.generation;
    if (query.endpoint == core::Endpoint::chat) {
        std::vector<core::ChatMessage> messages;
        const Json& list = body.at("messages");
        for (std::size_t i = 0; i < list.size(); ++i) {
            messages.push_back({list[i].at("role").get<std::string>(), content_text(list[i].value("content", Json()), i)});
        }
        g.prompt = model.chat_tokens(messages);
    } else {
        g.prompt = model.tokenize(body.at("prompt").get<std::string>(), true);
    }
    auto& p = g.params;
    // llama-server's defaults (common_params_sampling) for what the request does not set.
    p.max_tokens = number<int>(body, "max_completion_tokens", number<int>(body, "max_tokens", -1));
    p.temperature = number<double>(body, "temperature", 0.8);
    p.top_p = number<double>(body, "top_p", 0.95);
    p.seed = body.contains("seed") && !body["seed"].is_null() ? static_cast<std::uint32_t>(number<std::int64_t>(body, "seed", 0))
                                                              : std::random_device{}();
    if (auto stop = body.find("stop"); stop != body.end() && !stop->is_null()) {
        if (stop->is_string()) {
            p.stop.push_back(stop->get<std::string>());
        } else if (stop->is_array()) {
            for (const auto& s : *stop) {
                if (!s.is_string()) refuse("'stop' must be a string or an array of strings");
                p.stop.push_back(s.get<std::string>());
            }
        } else {
            refuse("'stop' must be a string or an array of strings");
        }
    }
    const bool client_logprobs = core::asks_for_logprobs(query);
    r.logprobs = client_logprobs || need_logprobs;
    const int asked_top = query.endpoint == core::Endpoint::chat ? number<int>(body, "top_logprobs", 0)
                                                                 : (client_logprobs ? number<int>(body, "logprobs", 0) : 0);
    p.top_logprobs = client_logprobs ? asked_top : (need_logprobs ? 2 : 0);
    return r;
}

}  // namespace hiro::backends
