#include "core/openai_protocol.h"

#include <cmath>
#include <ctime>
#include <limits>

#include "core/error.h"

namespace hiro::core {
namespace {

using nlohmann::json;

[[noreturn]] void bad_request(const std::string& what) { throw Error(ErrorCode::invalid_input, what); }

template <class T>
T field_as(const json& body, const char* key, const char* want, T fallback) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        bad_request(std::string("'") + key + "' must be " + want);
    }
}

// Message content is a string or an array of {type: "text", text} parts.
std::string content_text(const json& content, std::size_t index) {
    if (content.is_string()) return content.get<std::string>();
    if (content.is_null()) return {};
    if (!content.is_array()) bad_request("'messages[" + std::to_string(index) + "].content' must be a string or an array of text parts");
    std::string text;
    for (const auto& part : content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
            bad_request("'messages[" + std::to_string(index) + "].content' parts must be {\"type\": \"text\", \"text\": ...}");
        }
        text += part["text"].get<std::string>();
    }
    return text;
}

std::vector<TokenLogprob> tokens_from_logprobs(const json& logprobs) {
    std::vector<TokenLogprob> tokens;
    if (!logprobs.is_object()) return tokens;
    auto content = logprobs.find("content");
    if (content == logprobs.end() || !content->is_array()) return tokens;
    for (const auto& t : *content) {
        TokenLogprob tok;
        tok.id = t.value("id", -1);
        tok.text = t.value("token", "");
        tok.logprob = t.contains("logprob") && t["logprob"].is_number() ? t["logprob"].get<double>() : std::nan("");
        if (auto top = t.find("top_logprobs"); top != t.end() && top->is_array()) {
            for (const auto& alt : *top) {
                tok.top.push_back({alt.value("id", -1), alt.value("token", ""),
                                   alt.contains("logprob") && alt["logprob"].is_number() ? alt["logprob"].get<double>()
                                                                                        : -std::numeric_limits<double>::infinity()});
            }
        }
        tokens.push_back(std::move(tok));
    }
    return tokens;
}

json logprobs_json(const std::vector<TokenLogprob>& tokens) {
    json content = json::array();
    for (const auto& t : tokens) {
        json top = json::array();
        for (const auto& a : t.top) top.push_back({{"token", a.text}, {"logprob", a.logprob}});
        content.push_back({{"token", t.text}, {"logprob", std::isfinite(t.logprob) ? t.logprob : -9999.0}, {"top_logprobs", top}});
    }
    return {{"content", content}};
}

}  // namespace

OpenAIRequest parse_openai_request(std::string_view body, Endpoint endpoint) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) bad_request("the request body is not valid JSON");
    if (!j.is_object()) bad_request("the request body must be a JSON object");
    OpenAIRequest r;
    r.endpoint = endpoint;
    r.model = field_as<std::string>(j, "model", "a string", "");
    if (r.model.empty()) bad_request("'model' is required: name a tier or a policy (GET /v1/models lists them)");
    r.stream = field_as<bool>(j, "stream", "a boolean", false);
    auto& q = r.query;
    auto& p = q.params;
    if (endpoint == Endpoint::chat) {
        auto it = j.find("messages");
        if (it == j.end() || !it->is_array() || it->empty()) bad_request("'messages' must be a non-empty array");
        for (std::size_t i = 0; i < it->size(); ++i) {
            const auto& m = (*it)[i];
            if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
                bad_request("'messages[" + std::to_string(i) + "].role' must be a string");
            }
            q.messages.push_back({m["role"].get<std::string>(), content_text(m.value("content", json()), i)});
        }
        r.logprobs = field_as<bool>(j, "logprobs", "a boolean", false);
        p.top_logprobs = field_as<int>(j, "top_logprobs", "an integer", 0);
        p.max_tokens = field_as<int>(j, "max_completion_tokens", "an integer", field_as<int>(j, "max_tokens", "an integer", p.max_tokens));
    } else {
        auto it = j.find("prompt");
        if (it == j.end() || !it->is_string()) bad_request("'prompt' must be a string");
        q.prompt = it->get<std::string>();
        // Legacy completions: logprobs is the number of alternatives.
        const int n = field_as<int>(j, "logprobs", "an integer", -1);
        r.logprobs = n >= 0;
        p.top_logprobs = std::max(0, n);
        p.max_tokens = field_as<int>(j, "max_tokens", "an integer", p.max_tokens);
    }
    if (p.max_tokens < 1) bad_request("'max_tokens' must be at least 1");
    if (p.top_logprobs < 0 || p.top_logprobs > 20) bad_request("'top_logprobs' must be between 0 and 20");
    p.temperature = field_as<double>(j, "temperature", "a number", p.temperature);
    p.top_p = field_as<double>(j, "top_p", "a number", p.top_p);
    p.seed = field_as<std::uint32_t>(j, "seed", "a non-negative integer", p.seed);
    if (auto stop = j.find("stop"); stop != j.end() && !stop->is_null()) {
        if (stop->is_string()) {
            p.stop.push_back(stop->get<std::string>());
        } else if (stop->is_array()) {
            for (const auto& s : *stop) {
                if (!s.is_string()) bad_request("'stop' must be a string or an array of strings");
                p.stop.push_back(s.get<std::string>());
            }
        } else {
            bad_request("'stop' must be a string or an array of strings");
        }
    }
    return r;
}

std::string upstream_request_body(const Query& query, Endpoint endpoint, const std::string& model, int top_logprobs) {
    const auto& p = query.params;
    json j = {{"model", model}, {"stream", true}, {"stream_options", {{"include_usage", true}}}, {"max_tokens", p.max_tokens},
              {"temperature", p.temperature}, {"top_p", p.top_p}, {"seed", p.seed}};
    if (!p.stop.empty()) j["stop"] = p.stop;
    if (endpoint == Endpoint::chat) {
        json messages = json::array();
        for (const auto& m : query.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
        j["messages"] = std::move(messages);
        j["logprobs"] = true;
        j["top_logprobs"] = top_logprobs;
    } else {
        j["prompt"] = query.prompt;
        j["logprobs"] = top_logprobs;
    }
    return j.dump();
}

AnswerDelta parse_openai_delta(const json& body, Endpoint endpoint) {
    if (!body.is_object()) throw Error(ErrorCode::upstream, "the upstream answered JSON that is not an object");
    AnswerDelta d;
    if (auto usage = body.find("usage"); usage != body.end() && usage->is_object()) {
        d.usage = Usage{usage->value("prompt_tokens", std::int64_t{0}), usage->value("completion_tokens", std::int64_t{0})};
    }
    auto choices = body.find("choices");
    if (choices == body.end() || !choices->is_array()) {
        if (d.usage) return d;  // the final usage-only chunk
        throw Error(ErrorCode::upstream, "the upstream answer has no 'choices' array");
    }
    if (choices->empty()) return d;
    const json& c = (*choices)[0];
    if (!c.is_object()) throw Error(ErrorCode::upstream, "the upstream answer's choices[0] is not an object");
    std::string text;
    if (endpoint == Endpoint::chat) {
        const json* msg = c.contains("delta") ? &c["delta"] : c.contains("message") ? &c["message"] : nullptr;
        if (msg && msg->is_object() && msg->contains("content") && (*msg)["content"].is_string()) text = (*msg)["content"].get<std::string>();
    } else if (c.contains("text") && c["text"].is_string()) {
        text = c["text"].get<std::string>();
    }
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) d.finish_reason = c["finish_reason"].get<std::string>();
    d.tokens = tokens_from_logprobs(c.value("logprobs", json()));
    std::string joined;
    for (const auto& t : d.tokens) joined += t.text;
    if (joined != text && !text.empty()) {
        // No (or partial) logprobs: keep the text, with an unknown log-probability.
        d.tokens = {TokenLogprob{-1, text, std::nan(""), {}}};
    }
    return d;
}

json openai_response(const Answer& answer, Endpoint endpoint, const std::string& model, const std::string& id, bool with_logprobs) {
    json choice = {{"index", 0}, {"finish_reason", answer.finish_reason.empty() ? "stop" : answer.finish_reason}};
    if (endpoint == Endpoint::chat) {
        choice["message"] = {{"role", "assistant"}, {"content", answer.text}};
    } else {
        choice["text"] = answer.text;
    }
    choice["logprobs"] = with_logprobs ? logprobs_json(answer.tokens) : json(nullptr);
    return {{"id", id},
            {"object", endpoint == Endpoint::chat ? "chat.completion" : "text_completion"},
            {"created", static_cast<std::int64_t>(std::time(nullptr))},
            {"model", model},
            {"choices", json::array({choice})},
            {"usage", {{"prompt_tokens", answer.usage.prompt_tokens},
                       {"completion_tokens", answer.usage.completion_tokens},
                       {"total_tokens", answer.usage.prompt_tokens + answer.usage.completion_tokens}}}};
}

json openai_chunk(const std::vector<TokenLogprob>& tokens, std::string_view finish_reason, Endpoint endpoint, const std::string& model,
                  const std::string& id, bool with_logprobs) {
    std::string text;
    for (const auto& t : tokens) text += t.text;
    json choice = {{"index", 0}, {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
    if (endpoint == Endpoint::chat) {
        choice["delta"] = tokens.empty() && finish_reason.empty() ? json{{"role", "assistant"}, {"content", ""}} : json{{"content", text}};
    } else {
        choice["text"] = text;
    }
    if (with_logprobs && !tokens.empty()) choice["logprobs"] = logprobs_json(tokens);
    return {{"id", id},
            {"object", endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
            {"created", static_cast<std::int64_t>(std::time(nullptr))},
            {"model", model},
            {"choices", json::array({choice})}};
}

json openai_error(std::string_view message, std::string_view type, std::string_view code) {
    return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

}  // namespace hiro::core
