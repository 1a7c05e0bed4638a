#include "backends/local_answer.h"

#include <build-info.h>
#include <json.h>

#include <ctime>
#include <random>

#include "core/openai_response.h"
#include "core/utf8.h"

namespace hiro::backends {
namespace {

using core::Json;

std::string random_id(std::size_t length) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string id;
    for (std::size_t i = 0; i < length; ++i) id += alphabet[rng() % (sizeof alphabet - 1)];
    return id;
}

std::string wire(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json from_common(const common_json& j) { return Json::parse(j.dump(), nullptr, false); }

// One delta of a chat message, as llama-server writes it.
Json delta_json(const common_chat_msg_diff& diff) {
    Json delta = Json::object();
    if (!diff.reasoning_content_delta.empty()) delta["reasoning_content"] = diff.reasoning_content_delta;
    if (!diff.content_delta.empty()) delta["content"] = diff.content_delta;
    if (diff.tool_call_index != std::string::npos) {
        Json call = {{"index", diff.tool_call_index}};
        if (!diff.tool_call_delta.id.empty()) {
            call["id"] = diff.tool_call_delta.id;
            call["type"] = "function";
        }
        Json function = Json::object();
        if (!diff.tool_call_delta.name.empty()) function["name"] = diff.tool_call_delta.name;
        if (!diff.tool_call_delta.arguments.empty()) function["arguments"] = diff.tool_call_delta.arguments;
        if (!function.empty()) call["function"] = std::move(function);
        delta["tool_calls"] = Json::array({std::move(call)});
    }
    return delta;
}

}  // namespace

LocalAnswer::LocalAnswer(core::Endpoint endpoint, std::string model, std::optional<common_chat_parser_params> parser, bool logprobs)
    : endpoint_(endpoint),
      model_(std::move(model)),
      id_((endpoint == core::Endpoint::chat ? "chatcmpl-" : "cmpl-") + random_id(32)),
      created_(static_cast<std::int64_t>(std::time(nullptr))),
      parser_(std::move(parser)),
      logprobs_(logprobs) {}

Json LocalAnswer::envelope() const {
    return {{"id", id_}, {"object", endpoint_ == core::Endpoint::chat ? "chat.completion.chunk" : "text_completion"}, {"created", created_},
            {"model", model_}, {"system_fingerprint", llama_build_info()}};
}

AnswerChunk LocalAnswer::chunk(int index, Json delta, std::vector<core::TokenLogprob> tokens, const Json& finish) const {
    Json choice = {{"index", index}};
    if (endpoint_ == core::Endpoint::chat) {
        choice["delta"] = std::move(delta);
    } else {
        choice["text"] = std::move(delta);
    }
    if (logprobs_ && !tokens.empty()) choice["logprobs"] = core::logprobs_json(tokens);
    choice["finish_reason"] = finish;
    Json body = envelope();
    body["choices"] = Json::array({std::move(choice)});
    AnswerChunk out{wire(body), {}};
    out.delta = core::read_delta(out.json, endpoint_);
    return out;
}

common_chat_msg LocalAnswer::read(Choice& c, bool partial) const {
    const std::string text = c.text.substr(0, c.sent);
    common_chat_msg msg;
    try {
        msg = common_chat_parse(text, partial, *parser_);
    } catch (const std::exception&) {
        if (partial) return c.message;  // not readable yet: wait for more text
        msg = common_chat_msg();        // never readable: the text is the content
        msg.role = "assistant";
        msg.content = text;
    }
    msg.set_tool_call_ids(c.tool_call_ids, [] { return random_id(32); });
    return msg;
}

std::vector<AnswerChunk> LocalAnswer::advance(int index, bool partial) {
    Choice& c = choices_[static_cast<std::size_t>(index)];
    const std::size_t ready = partial ? core::sendable_utf8(c.text) : c.text.size();
    std::vector<AnswerChunk> out;
    if (ready == c.sent) return out;
    const std::size_t from = c.sent;
    c.sent = ready;
    if (!parser_) {
        out.push_back(chunk(index, c.text.substr(from, ready - from), std::move(c.pending), nullptr));
        c.pending.clear();
        return out;
    }
    const common_chat_msg message = read(c, partial);
    for (const auto& diff : common_chat_msg_diff::compute_diffs(c.message, message)) {
        out.push_back(chunk(index, delta_json(diff), std::move(c.pending), nullptr));
        c.pending.clear();
    }
    c.message = message;
    return out;
}

std::vector<AnswerChunk> LocalAnswer::start(int index) {
    if (choices_.size() <= static_cast<std::size_t>(index)) choices_.resize(static_cast<std::size_t>(index) + 1);
    Choice& c = choices_[static_cast<std::size_t>(index)];
    std::vector<AnswerChunk> out;
    if (!c.started && parser_) out.push_back(chunk(index, {{"role", "assistant"}, {"content", nullptr}}, {}, nullptr));
    c.started = true;
    return out;
}

std::vector<AnswerChunk> LocalAnswer::token(int index, const core::TokenLogprob& t) {
    std::vector<AnswerChunk> out = start(index);
    Choice& c = choices_[static_cast<std::size_t>(index)];
    c.text += t.text;
    c.pending.push_back(t);
    auto more = advance(index, true);
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    return out;
}

std::string LocalAnswer::finish_reason(const Choice& c, const std::string& engine_reason) const {
    if (engine_reason == "stop" && parser_ && !c.message.tool_calls.empty()) return "tool_calls";
    return engine_reason;
}

std::vector<AnswerChunk> LocalAnswer::finish_choice(int index, const core::Answer& generated) {
    std::vector<AnswerChunk> out = start(index);
    Choice& c = choices_[static_cast<std::size_t>(index)];
    c.text = generated.text;  // the engine's, trimmed at a stop string
    auto rest = advance(index, false);
    out.insert(out.end(), std::make_move_iterator(rest.begin()), std::make_move_iterator(rest.end()));
    const std::string reason = finish_reason(c, generated.finish_reason);
    out.push_back(chunk(index, parser_ ? Json::object() : Json(""), std::move(c.pending), reason));
    c.pending.clear();

    Json choice = {{"index", index}};
    if (parser_) {
        choice["message"] = from_common(c.message.to_json_oaicompat());
    } else {
        choice["text"] = c.text;
    }
    if (logprobs_) choice["logprobs"] = core::logprobs_json(generated.tokens);
    choice["finish_reason"] = reason;
    finished_.push_back(std::move(choice));
    if (index == 0) first_text_ = parser_ ? c.message.content : c.text;
    return out;
}

AnswerChunk LocalAnswer::usage_chunk(const core::Usage& usage) const {
    Json body = envelope();
    body["choices"] = Json::array();
    body["usage"] = core::usage_json(usage);
    AnswerChunk out{wire(body), {}};
    out.delta = core::read_delta(out.json, endpoint_);
    return out;
}

std::string LocalAnswer::body(const core::Usage& usage) const {
    Json body = envelope();
    body["object"] = endpoint_ == core::Endpoint::chat ? "chat.completion" : "text_completion";
    body["choices"] = finished_;
    body["usage"] = core::usage_json(usage);
    return wire(body);
}

}  // namespace hiro::backends
