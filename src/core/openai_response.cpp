#include "core/openai_response.h"

#include <cmath>
#include <ctime>
#include <limits>

#include "core/error.h"

namespace hiro::core {
namespace {

std::vector<TokenLogprob> tokens_from_logprobs(const Json& logprobs) {
    std::vector<TokenLogprob> tokens;
    if (!logprobs.is_object()) return tokens;
    auto content = logprobs.find("content");
    if (content == logprobs.end() || !content->is_array()) return tokens;
    for (const auto& t : *content) {
        if (!t.is_object()) continue;
        TokenLogprob tok;
        tok.id = t.value("id", -1);
        tok.text = t.value("token", "");
        tok.logprob = t.contains("logprob") && t["logprob"].is_number() ? t["logprob"].get<double>() : std::nan("");
        if (auto top = t.find("top_logprobs"); top != t.end() && top->is_array()) {
            for (const auto& alt : *top) {
                if (!alt.is_object()) continue;
                tok.top.push_back({alt.value("id", -1), alt.value("token", ""),
                                   alt.contains("logprob") && alt["logprob"].is_number() ? alt["logprob"].get<double>()
                                                                                        : -std::numeric_limits<double>::infinity()});
            }
        }
        tokens.push_back(std::move(tok));
    }
    return tokens;
}

// UTF-8 bytes of a token's text, as llama-server and OpenAI report them.
Json bytes_of(const std::string& text) {
    Json bytes = Json::array();
    for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
    return bytes;
}

Json logprobs_json(const std::vector<TokenLogprob>& tokens) {
    Json content = Json::array();
    for (const auto& t : tokens) {
        if (std::isnan(t.logprob)) return nullptr;  // no log-probabilities: none are made up
        Json top = Json::array();
        for (const auto& a : t.top) top.push_back({{"id", a.id}, {"token", a.text}, {"bytes", bytes_of(a.text)}, {"logprob", a.logprob}});
        content.push_back({{"id", t.id}, {"token", t.text}, {"bytes", bytes_of(t.text)}, {"logprob", t.logprob}, {"top_logprobs", top}});
    }
    return {{"content", content}};
}

Json chunk_envelope(const Json& response, Endpoint endpoint) {
    Json chunk = Json::object();
    for (const char* key : {"id", "created", "model", "system_fingerprint"}) {
        if (response.contains(key)) chunk[key] = response[key];
    }
    chunk["object"] = endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion";
    return chunk;
}

Json with_choice(Json chunk, Json choice) {
    chunk["choices"] = Json::array({std::move(choice)});
    return chunk;
}

}  // namespace

AnswerDelta parse_openai_delta(const Json& body, Endpoint endpoint) {
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
    // The first choice is the one hiro judges (n choices are judged as a whole by it).
    const Json* first = nullptr;
    for (const auto& c : *choices) {
        if (!c.is_object()) throw Error(ErrorCode::upstream, "the upstream answer has a choice that is not an object");
        if (c.value("index", 0) == 0) first = &c;
    }
    if (first == nullptr) return d;
    const Json& c = *first;
    if (endpoint == Endpoint::chat) {
        const Json* msg = c.contains("delta") ? &c["delta"] : c.contains("message") ? &c["message"] : nullptr;
        if (msg && msg->is_object() && msg->contains("content") && (*msg)["content"].is_string()) d.text = (*msg)["content"].get<std::string>();
    } else if (c.contains("text") && c["text"].is_string()) {
        d.text = c["text"].get<std::string>();
    }
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) d.finish_reason = c["finish_reason"].get<std::string>();
    d.tokens = tokens_from_logprobs(c.value("logprobs", Json()));
    std::string joined;
    for (const auto& t : d.tokens) joined += t.text;
    if (joined != d.text && !d.text.empty()) {
        // No (or partial) logprobs: keep the text, with an unknown log-probability.
        d.tokens = {TokenLogprob{-1, d.text, std::nan(""), {}}};
    }
    return d;
}

namespace {

// Removes the logprobs hiro asked for to judge an answer, as if it had not.
void strip_logprobs(Json& body) {
    auto choices = body.find("choices");
    if (choices == body.end() || !choices->is_array()) return;
    for (auto& c : *choices) {
        if (c.is_object()) c.erase("logprobs");
    }
}

}  // namespace

void prepare_response(Json& body, const ClientView& client) {
    body["model"] = client.model;
    if (!client.logprobs) strip_logprobs(body);
}

bool is_usage_chunk(const Json& chunk) {
    auto choices = chunk.find("choices");
    return (choices == chunk.end() || (choices->is_array() && choices->empty())) && chunk.contains("usage") && !chunk["usage"].is_null();
}

bool prepare_chunk(Json& chunk, const ClientView& client) {
    if (!client.include_usage) {
        if (is_usage_chunk(chunk)) return false;
        chunk.erase("usage");
    }
    if (chunk.contains("model")) chunk["model"] = client.model;
    if (!client.logprobs) strip_logprobs(chunk);
    return true;
}

std::vector<Json> chunks_of(const Json& response, Endpoint endpoint) {
    std::vector<Json> chunks;
    const Json envelope = chunk_envelope(response, endpoint);
    const Json choices = response.value("choices", Json::array());
    for (const auto& c : choices) {
        if (!c.is_object()) continue;
        const Json index = c.value("index", Json(0));
        auto choice = [&](Json fields) {
            Json out = {{"index", index}};
            for (auto& [k, v] : fields.items()) out[k] = std::move(v);
            return out;
        };
        const Json message = endpoint == Endpoint::chat ? c.value("message", Json::object()) : Json::object();
        const std::string text = endpoint == Endpoint::chat ? (message.contains("content") && message["content"].is_string() ? message["content"].get<std::string>() : "")
                                                            : c.value("text", "");
        if (endpoint == Endpoint::chat) {
            chunks.push_back(with_choice(envelope, choice({{"delta", {{"role", message.value("role", "assistant")}, {"content", ""}}},
                                                           {"logprobs", nullptr}, {"finish_reason", nullptr}})));
        }
        auto content = [&](const std::string& piece) {
            return endpoint == Endpoint::chat ? Json{{"delta", {{"content", piece}}}} : Json{{"text", piece}};
        };
        // One chunk per token when the tokens spell the content, as a live stream would.
        const Json logprobs = c.value("logprobs", Json());
        const Json tokens = logprobs.is_object() ? logprobs.value("content", Json::array()) : Json::array();
        std::string joined;
        for (const auto& t : tokens) joined += t.is_object() ? t.value("token", "") : "";
        if (!tokens.empty() && joined == text) {
            for (const auto& t : tokens) {
                Json piece = content(t.value("token", ""));
                piece["logprobs"] = {{"content", Json::array({t})}};
                piece["finish_reason"] = nullptr;
                chunks.push_back(with_choice(envelope, choice(std::move(piece))));
            }
        } else if (!text.empty()) {
            Json piece = content(text);
            piece["logprobs"] = logprobs.is_null() ? Json(nullptr) : logprobs;
            piece["finish_reason"] = nullptr;
            chunks.push_back(with_choice(envelope, choice(std::move(piece))));
        }
        if (endpoint == Endpoint::chat) {
            Json delta = Json::object();
            for (const auto& [k, v] : message.items()) {
                if (k != "role" && k != "content" && !v.is_null()) delta[k] = v;  // tool_calls, reasoning_content, refusal ...
            }
            if (auto calls = delta.find("tool_calls"); calls != delta.end() && calls->is_array()) {
                for (std::size_t i = 0; i < calls->size(); ++i) {
                    if ((*calls)[i].is_object() && !(*calls)[i].contains("index")) (*calls)[i]["index"] = i;
                }
            }
            if (!delta.empty()) chunks.push_back(with_choice(envelope, choice({{"delta", delta}, {"logprobs", nullptr}, {"finish_reason", nullptr}})));
        }
        Json finish = endpoint == Endpoint::chat ? Json{{"delta", Json::object()}} : Json{{"text", ""}};
        finish["logprobs"] = nullptr;
        finish["finish_reason"] = c.value("finish_reason", Json("stop"));
        chunks.push_back(with_choice(envelope, choice(std::move(finish))));
    }
    if (response.contains("usage") && response["usage"].is_object()) {
        Json usage = envelope;
        usage["choices"] = Json::array();
        usage["usage"] = response["usage"];
        chunks.push_back(std::move(usage));
    }
    return chunks;
}

Json usage_json(const Usage& usage) {
    return {{"completion_tokens", usage.completion_tokens},
            {"prompt_tokens", usage.prompt_tokens},
            {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

Json openai_response(const Answer& answer, Endpoint endpoint, const std::string& model, const std::string& id, bool with_logprobs) {
    Json choice = {{"index", 0}};
    if (endpoint == Endpoint::chat) {
        choice["message"] = {{"role", "assistant"}, {"content", answer.text}};
    } else {
        choice["text"] = answer.text;
    }
    choice["logprobs"] = with_logprobs ? logprobs_json(answer.tokens) : Json(nullptr);
    choice["finish_reason"] = answer.finish_reason.empty() ? "stop" : answer.finish_reason;
    return {{"id", id},
            {"object", endpoint == Endpoint::chat ? "chat.completion" : "text_completion"},
            {"created", static_cast<std::int64_t>(std::time(nullptr))},
            {"model", model},
            {"choices", Json::array({choice})},
            {"usage", usage_json(answer.usage)}};
}

Json openai_chunk(const std::vector<TokenLogprob>& tokens, std::string_view finish_reason, Endpoint endpoint, const std::string& model,
                  const std::string& id, bool with_logprobs) {
    std::string text;
    for (const auto& t : tokens) text += t.text;
    Json choice = {{"index", 0}};
    if (endpoint == Endpoint::chat) {
        choice["delta"] = tokens.empty() && finish_reason.empty() ? Json{{"role", "assistant"}, {"content", ""}}
                          : tokens.empty()                        ? Json::object()
                                                                  : Json{{"content", text}};
    } else {
        choice["text"] = text;
    }
    choice["logprobs"] = with_logprobs && !tokens.empty() ? logprobs_json(tokens) : Json(nullptr);
    choice["finish_reason"] = finish_reason.empty() ? Json(nullptr) : Json(finish_reason);
    return {{"id", id},
            {"object", endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
            {"created", static_cast<std::int64_t>(std::time(nullptr))},
            {"model", model},
            {"choices", Json::array({choice})}};
}

Json openai_error(std::string_view message, std::string_view type, std::string_view code) {
    return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code.empty() ? Json(nullptr) : Json(code)}}}};
}

}  // namespace hiro::core
