#pragma once

#include <optional>
#include <string>
#include <vector>

#include <chat.h>

#include "backends/tier.h"
#include "core/query.h"

namespace hiro::backends {

// What a local tier answers, in llama-server's shape: per choice, a chat
// message read back from the generated text by the template's parser
// (content, tool calls, reasoning) or a completion's text; streamed as the
// deltas between successive readings, whole as one body. Text is held back
// while a multi-byte UTF-8 character is incomplete, so no chunk carries half
// a character and the chunks concatenate to the answer.
class LocalAnswer {
public:
    LocalAnswer(core::Endpoint endpoint, std::string model, std::optional<common_chat_parser_params> parser, bool logprobs);

    // Streaming: the chunks a new token of choice `index` brings (its first
    // token also brings the chat's role chunk).
    std::vector<AnswerChunk> token(int index, const core::TokenLogprob& t);
    // The end of choice `index`: its last chunks and its finish-reason chunk
    // when streaming; the choice is kept for the whole body either way.
    std::vector<AnswerChunk> finish_choice(int index, const core::Answer& generated);
    // The final usage chunk, and the whole body.
    AnswerChunk usage_chunk(const core::Usage& usage) const;
    std::string body(const core::Usage& usage) const;

    const std::string& id() const { return id_; }
    // The first choice's text as a client reads it (a chat message's content).
    const std::string& first_text() const { return first_text_; }

private:
    struct Choice {
        std::string text;     // generated so far, all of it
        std::size_t sent = 0;  // bytes of `text` already read into `message`
        std::vector<core::TokenLogprob> pending;  // tokens not yet sent in a chunk
        common_chat_msg message;
        std::vector<std::string> tool_call_ids;
        bool started = false;
    };
    core::Json envelope() const;
    std::vector<AnswerChunk> start(int index);  // the choice's role chunk, the first time
    AnswerChunk chunk(int index, core::Json delta, std::vector<core::TokenLogprob> tokens, const core::Json& finish) const;
    std::vector<AnswerChunk> advance(int index, bool partial);
    common_chat_msg read(Choice& c, bool partial) const;
    std::string finish_reason(const Choice& c, const std::string& engine_reason) const;

    core::Endpoint endpoint_;
    std::string model_;
    std::string id_;
    std::int64_t created_;
    std::optional<common_chat_parser_params> parser_;
    bool logprobs_;
    std::vector<Choice> choices_;
    core::Json finished_ = core::Json::array();  // whole choices, in order
    std::string first_text_;
};

}  // namespace hiro::backends
