#include "core/openai_response.h"

#include <cmath>
#include <ctime>
#include <limits>

#include <simdjson.h>

#include "core/error.h"

namespace hiro::core {
namespace {

// UTF-8 bytes of a token's text, as llama-server and OpenAI report them.
Json bytes_of(const std::string& text) {
    Json bytes = Json::array();
    for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
    return bytes;
}

}  // namespace

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

namespace {

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

namespace {

namespace dom = simdjson::dom;

[[noreturn]] void not_openai(const std::string& what) { throw Error(ErrorCode::upstream, "the upstream answered " + what); }

std::string string_of(dom::element e) {
    std::string_view s;
    return e.get_string().get(s) ? std::string() : std::string(s);
}

// An integer field, or `missing`.
std::int64_t int_field(dom::object o, std::string_view key, std::int64_t missing) {
    int64_t v;
    return o[key].get_int64().get(v) ? missing : v;
}

std::string string_field(dom::object o, std::string_view key) {
    dom::element e;
    return o[key].get(e) ? std::string() : string_of(e);
}

double logprob_of(dom::object o, double missing) {
    double v;
    return o["logprob"].get_double().get(v) ? missing : v;
}

std::vector<TokenLogprob> tokens_of(dom::element logprobs) {
    std::vector<TokenLogprob> tokens;
    dom::array content;
    if (logprobs["content"].get_array().get(content)) return tokens;
    for (dom::element t : content) {
        dom::object o;
        if (t.get_object().get(o)) continue;
        TokenLogprob tok;
        tok.id = static_cast<std::int32_t>(int_field(o, "id", -1));
        tok.text = string_field(o, "token");
        tok.logprob = logprob_of(o, std::nan(""));
        dom::array top;
        if (!o["top_logprobs"].get_array().get(top)) {
            for (dom::element alt : top) {
                dom::object a;
                if (alt.get_object().get(a)) continue;
                tok.top.push_back({static_cast<std::int32_t>(int_field(a, "id", -1)), string_field(a, "token"),
                                   logprob_of(a, -std::numeric_limits<double>::infinity())});
            }
        }
        tokens.push_back(std::move(tok));
    }
    return tokens;
}

}  // namespace

AnswerDelta read_delta(std::string_view json, Endpoint endpoint) {
    thread_local dom::parser parser;
    dom::element doc;
    if (parser.parse(json.data(), json.size()).get(doc)) not_openai("text that is not JSON: " + std::string(json.substr(0, 120)));
    dom::object body;
    if (doc.get_object().get(body)) not_openai("JSON that is not an object");
    AnswerDelta d;
    dom::element usage;
    if (!body["usage"].get(usage) && !usage.is_null()) {
        d.usage_field = true;
        dom::object u;
        if (!usage.get_object().get(u)) {
            d.usage = Usage{int_field(u, "prompt_tokens", 0), int_field(u, "completion_tokens", 0)};
        }
    }
    dom::array choices;
    if (body["choices"].get_array().get(choices)) {
        if (d.usage) return d;  // the final usage-only chunk
        not_openai("without a 'choices' array");
    }
    std::size_t count = 0;
    for (dom::element c : choices) {
        ++count;
        dom::object choice;
        if (c.get_object().get(choice)) not_openai("a choice that is not an object");
        dom::element finish, logprobs;
        const bool finished = !choice["finish_reason"].get(finish) && !finish.is_null();
        d.finishes = d.finishes || finished;
        const bool has_logprobs = !choice["logprobs"].get(logprobs) && !logprobs.is_null();
        d.logprobs_field = d.logprobs_field || has_logprobs;
        if (int_field(choice, "index", 0) != 0) continue;  // the first choice is the one hiro judges
        if (finished) d.finish_reason = string_of(finish);
        dom::element text_of;
        if (endpoint == Endpoint::chat) {
            dom::object message;
            if (!choice["delta"].get_object().get(message) || !choice["message"].get_object().get(message)) {
                d.text = string_field(message, "content");
                dom::element role;
                bool only_role = !message["role"].get(role);
                for (auto field : message) {
                    if (field.key != "role" && !(field.key == "content" && (field.value.is_null() || string_of(field.value).empty()))) only_role = false;
                }
                d.role_only = only_role && !finished;
            }
        } else if (!choice["text"].get(text_of)) {
            d.text = string_of(text_of);
        }
        if (has_logprobs) d.tokens = tokens_of(logprobs);
    }
    d.has_choices = count > 0;
    std::string joined;
    for (const auto& t : d.tokens) joined += t.text;
    if (joined != d.text && !d.text.empty()) {
        // No (or partial) logprobs: keep the text, with an unknown log-probability.
        d.tokens = {TokenLogprob{-1, d.text, std::nan(""), {}}};
    }
    return d;
}

AnswerDelta parse_openai_delta(const Json& body, Endpoint endpoint) { return read_delta(body.dump(-1, ' ', false, Json::error_handler_t::replace), endpoint); }

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

std::string prepare_response(std::string body, const ClientView& client) {
    if (client.logprobs || !read_delta(body, client.endpoint).logprobs_field) return body;
    Json j = Json::parse(body, nullptr, false);
    strip_logprobs(j);
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool needs_preparing(const AnswerDelta& delta, const ClientView& client, bool whole_response) {
    return (delta.usage_field && !client.include_usage && !whole_response) || (delta.logprobs_field && !client.logprobs);
}

std::string with_field(std::string object, std::string_view key, const Json& value) {
    while (!object.empty() && object.back() != '}') object.pop_back();  // trailing white space
    if (object.empty()) return Json{{key, value}}.dump(-1, ' ', false, Json::error_handler_t::replace);
    object.pop_back();
    std::size_t last = object.find_last_not_of(" \t\r\n");
    const bool empty = last != std::string::npos && object[last] == '{';
    object += empty ? "\"" : ",\"";
    object += key;
    object += "\":";
    object += value.dump(-1, ' ', false, Json::error_handler_t::replace);
    object += '}';
    return object;
}

bool prepare_chunk(Json& chunk, const ClientView& client) {
    if (!client.include_usage) {
        auto choices = chunk.find("choices");
        if (choices == chunk.end() || (choices->is_array() && choices->empty())) return false;  // usage only
        chunk.erase("usage");
    }
    if (!client.logprobs) strip_logprobs(chunk);
    return true;
}

std::vector<Json> chunks_of(std::string_view text, Endpoint endpoint) {
    std::vector<Json> chunks;
    const Json response = Json::parse(text, nullptr, false);
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

Json openai_error(std::string_view message, std::string_view type, std::string_view code) {
    return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code.empty() ? Json(nullptr) : Json(code)}}}};
}

}  // namespace hiro::core
