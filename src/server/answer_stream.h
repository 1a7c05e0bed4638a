#pragma once

#include <string>
#include <vector>

#include "backends/tier.h"
#include "core/openai_response.h"
#include "server/client_stream.h"

namespace hiro::server {

// One answer streamed to the client as Server-Sent Events, whichever tiers
// produce it: opened on the first chunk, each chunk handed on as the tier
// gave it (prepared for the client: its model name, logprobs and usage only
// if asked), and always ended with `data: [DONE]`, after the `hiro` trace or
// an error event. The chunks that close an answer (finish reasons, usage)
// are held until the answer ends so that the trace can ride on the last one;
// they come last anyway, so no token is delayed.
class AnswerStream {
public:
    AnswerStream(ClientStream& client, core::ClientView view);

    // Sends a chunk, opening the stream with `headers` first if need be. A
    // second tier continuing a broken answer sends its role chunk again: it
    // is dropped.
    Task<void> send(backends::AnswerChunk chunk, const Headers& headers);
    // Ends the stream with the trace on its last chunk.
    Task<void> finish(core::Json trace, const Headers& headers);
    // Ends an opened stream with an error event (it carries the trace), then [DONE].
    Task<void> fail(core::Json error);

    bool opened() const { return opened_; }
    const std::string& text_sent() const { return text_sent_; }  // the first choice's content so far
    std::int64_t tokens_sent() const { return tokens_sent_; }

private:
    Task<void> open(const Headers& headers);
    Task<void> flush_held();

    ClientStream& client_;
    core::ClientView view_;
    bool opened_ = false;
    bool role_sent_ = false;
    std::vector<core::Json> held_;
    std::string text_sent_;
    std::int64_t tokens_sent_ = 0;
};

}  // namespace hiro::server
