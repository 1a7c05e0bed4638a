#include "core/openai_request.h"

#include "core/error.h"

namespace hiro::core {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void bad_request(const std::string& what) { throw Error(ErrorCode::invalid_input, what); }

// The field, if present and not null; throws when it has the wrong type.
const Json* field(const Json& body, const char* key, Json::value_t type, const char* want) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return nullptr;
    const bool ok = type == Json::value_t::number_integer ? it->is_number_integer()
                    : type == Json::value_t::number_float ? it->is_number()
                                                          : it->type() == type;
    if (!ok) bad_request(std::string("'") + key + "' must be " + want);
    return &*it;
}

void check_messages(const Json& body) {
    auto it = body.find("messages");
    if (it == body.end() || !it->is_array() || it->empty()) bad_request("'messages' must be a non-empty array");
    for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& m = (*it)[i];
        const std::string where = "'messages[" + std::to_string(i) + "]";
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) bad_request(where + ".role' must be a string");
        auto content = m.find("content");
        if (content != m.end() && !content->is_string() && !content->is_array() && !content->is_null()) {
            bad_request(where + ".content' must be a string, an array of content parts, or null");
        }
    }
}

}  // namespace

OpenAIRequest parse_openai_request(std::string_view text, Endpoint endpoint) {
    Json body = Json::parse(text, nullptr, false);
    if (body.is_discarded()) bad_request("the request body is not valid JSON");
    if (!body.is_object()) bad_request("the request body must be a JSON object");
    OpenAIRequest r;
    r.endpoint = endpoint;
    if (const Json* model = field(body, "model", Json::value_t::string, "a string")) r.model = model->get<std::string>();
    if (const Json* stream = field(body, "stream", Json::value_t::boolean, "a boolean")) r.stream = stream->get<bool>();
    if (const Json* options = field(body, "stream_options", Json::value_t::object, "an object")) {
        if (const Json* usage = field(*options, "include_usage", Json::value_t::boolean, "a boolean (stream_options.include_usage)")) {
            r.include_usage = usage->get<bool>();
        }
    }
    if (endpoint == Endpoint::chat) {
        check_messages(body);
        if (const Json* lp = field(body, "logprobs", Json::value_t::boolean, "a boolean")) r.logprobs = lp->get<bool>();
        if (const Json* top = field(body, "top_logprobs", Json::value_t::number_integer, "an integer")) {
            if (*top < 0 || *top > 20) bad_request("'top_logprobs' must be between 0 and 20");
        }
        if (const Json* max = field(body, "max_completion_tokens", Json::value_t::number_integer, "an integer"); max && *max < 1) {
            bad_request("'max_completion_tokens' must be at least 1");
        }
    } else {
        auto prompt = body.find("prompt");
        if (prompt == body.end() || !prompt->is_string()) bad_request("'prompt' must be a string");
        // Legacy completions: logprobs is the number of alternatives.
        if (const Json* lp = field(body, "logprobs", Json::value_t::number_integer, "an integer")) {
            if (*lp < 0 || *lp > 20) bad_request("'logprobs' must be between 0 and 20");
            r.logprobs = true;
        }
    }
    if (const Json* max = field(body, "max_tokens", Json::value_t::number_integer, "an integer"); max && *max < 1) {
        bad_request("'max_tokens' must be at least 1");
    }
    body.erase("model");
    body.erase("stream");
    body.erase("stream_options");
    r.query.endpoint = endpoint;
    r.query.body = std::move(body);
    return r;
}

bool asks_for_logprobs(const Query& query) {
    auto lp = query.body.find("logprobs");
    if (lp == query.body.end() || lp->is_null()) return false;
    return query.endpoint == Endpoint::chat ? lp->is_boolean() && lp->get<bool>() : lp->is_number_integer();
}

std::string upstream_request_body(const Query& query, const UpstreamOptions& options) {
    const Json& body = query.body;
    Json ours = Json::object();  // what hiro sets, ahead of the client's fields
    ours["model"] = options.model;
    if (options.stream) {  // not streaming is the default: nothing to send
        ours["stream"] = true;
        ours["stream_options"] = {{"include_usage", true}};
    }
    for (const auto& [key, value] : options.defaults.items()) {
        if (!body.contains(key)) ours[key] = value;
    }
    if (options.need_logprobs && !asks_for_logprobs(query)) {
        if (query.endpoint == Endpoint::chat) {
            ours["logprobs"] = true;
            if (!body.contains("top_logprobs")) ours["top_logprobs"] = options.top_logprobs;
        } else {
            ours["logprobs"] = options.top_logprobs;
        }
    }
    constexpr auto replace = Json::error_handler_t::replace;
    if (body.contains("logprobs") && ours.contains("logprobs")) {  // the client's "logprobs": false overridden
        Json merged = body;
        for (const auto& [key, value] : ours.items()) merged[key] = value;
        return merged.dump(-1, ' ', false, replace);
    }
    // Spliced as text: the client's messages are serialised once, never copied.
    std::string out = ours.dump(-1, ' ', false, replace);
    if (!body.empty()) {
        const std::string rest = body.dump(-1, ' ', false, replace);
        out.back() = ',';
        out.append(rest, 1, std::string::npos);
    }
    return out;
}

}  // namespace hiro::core
