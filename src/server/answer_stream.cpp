#include "server/answer_stream.h"

namespace hiro::server {
namespace {

using core::Json;

// Serialised for the wire: text a model made may hold invalid UTF-8, which
// becomes U+FFFD rather than an exception.
std::string wire(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

AnswerStream::AnswerStream(ClientStream& client, core::ClientView view) : client_(client), view_(view) {}

Task<void> AnswerStream::open() {
    if (opened_) co_return;
    opened_ = true;
    co_await client_.start_stream(headers_);
}

Task<void> AnswerStream::flush_held() {
    for (const auto& chunk : held_) co_await client_.send_event(chunk);
    held_.clear();
}

Task<void> AnswerStream::accept(backends::AnswerChunk& chunk) {
    const core::AnswerDelta& d = chunk.delta;
    if (d.role_only) {
        if (role_sent_) co_return;
        role_sent_ = true;
    } else {
        committed_ = true;
    }
    if (core::needs_preparing(d, view_)) {
        Json body = Json::parse(chunk.json, nullptr, false);  // the tier has read it: it is JSON
        if (!core::prepare_chunk(body, view_)) co_return;
        chunk.json = wire(body);
    }
    co_await open();
    if (d.finishes || !d.has_choices) {
        held_.push_back(std::move(chunk.json));
        co_return;
    }
    co_await flush_held();
    text_sent_ += d.text;
    tokens_sent_ += static_cast<std::int64_t>(d.tokens.size());
    co_await client_.send_event(chunk.json);
}

Task<void> AnswerStream::finish(Json trace) {
    co_await open();
    if (held_.empty()) {
        held_.push_back(wire({{"object", view_.endpoint == core::Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
                              {"choices", Json::array()}}));
    }
    held_.back() = core::with_field(std::move(held_.back()), "hiro", trace);
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
