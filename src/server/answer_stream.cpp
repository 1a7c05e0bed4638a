#include "server/answer_stream.h"

namespace hiro::server {
namespace {

using core::Json;

// Serialised for the wire: text a model made may hold invalid UTF-8, which
// becomes U+FFFD rather than an exception.
std::string wire(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool closes_answer(const Json& chunk) {
    if (core::is_usage_chunk(chunk)) return true;
    for (const auto& c : chunk.value("choices", Json::array())) {
        if (c.is_object() && c.contains("finish_reason") && !c["finish_reason"].is_null()) return true;
    }
    return false;
}

// A chat chunk that only announces the assistant's role.
bool role_only(const Json& chunk) {
    const auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->size() != 1) return false;
    const auto& c = (*choices)[0];
    const auto delta = c.find("delta");
    if (delta == c.end() || !delta->is_object() || !delta->contains("role")) return false;
    for (const auto& [k, v] : delta->items()) {
        if (k != "role" && !(k == "content" && (v.is_null() || v == ""))) return false;
    }
    return c.value("finish_reason", Json()).is_null();
}

}  // namespace

AnswerStream::AnswerStream(ClientStream& client, core::ClientView view) : client_(client), view_(std::move(view)) {}

Task<void> AnswerStream::open(const Headers& headers) {
    if (opened_) co_return;
    opened_ = true;
    co_await client_.start_stream(headers);
}

Task<void> AnswerStream::flush_held() {
    for (auto& chunk : held_) co_await client_.send_event(wire(chunk));
    held_.clear();
}

Task<void> AnswerStream::send(backends::AnswerChunk chunk, const Headers& headers) {
    Json& body = chunk.body;
    if (role_only(body)) {
        if (role_sent_) co_return;
        role_sent_ = true;
    }
    if (!core::prepare_chunk(body, view_)) co_return;
    co_await open(headers);
    if (closes_answer(body)) {
        held_.push_back(std::move(body));
        co_return;
    }
    co_await flush_held();
    text_sent_ += chunk.delta.text;
    tokens_sent_ += static_cast<std::int64_t>(chunk.delta.tokens.size());
    co_await client_.send_event(wire(body));
}

Task<void> AnswerStream::finish(Json trace, const Headers& headers) {
    co_await open(headers);
    if (held_.empty()) held_.push_back({{"object", view_.endpoint == core::Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
                                        {"model", view_.model},
                                        {"choices", Json::array()}});
    held_.back()["hiro"] = std::move(trace);
    co_await flush_held();
    co_await client_.send_event("[DONE]");
    co_await client_.end_stream();
}

Task<void> AnswerStream::fail(Json error) {
    held_.clear();  // the answer did not finish: what closed it must not be sent
    co_await client_.send_event(wire(error));
    co_await client_.send_event("[DONE]");
    co_await client_.end_stream();
}

}  // namespace hiro::server
