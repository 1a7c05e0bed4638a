#pragma once

#include <string>
#include <vector>

#include "backends/tier.h"
#include "core/openai_response.h"
#include "server/client_stream.h"

namespace hiro::server {

// One answer streamed to the client as Server-Sent Events, whichever tiers
// produce it: opened on the first chunk, each chunk handed on as the tier
// gave it (as the same bytes, unless usage or logprobs the client did not ask
// for must go), and always ended with `data: [DONE]`, after the `hiro` trace
// or an error event. The chunks that close an answer (finish reasons, usage)
// are held until the answer ends so that the trace can ride on the last one;
// they come last anyway, so no token is delayed.
class AnswerStream final : public backends::ChunkSink {
public:
    AnswerStream(ClientStream& client, core::ClientView view);

    // The headers the stream opens with (which tier answers).
    void set_headers(Headers headers) { headers_ = std::move(headers); }
    // Sends a chunk, opening the stream first if need be. A second tier
    // continuing a broken answer sends its role chunk again: it is dropped.
    Task<void> accept(backends::AnswerChunk& chunk) override;
    bool committed() const override { return committed_; }
    // Ends the stream with the trace on its last chunk.
    Task<void> finish(core::Json trace);
    // Ends an opened stream with an error event (it carries the trace), then [DONE].
    Task<void> fail(core::Json error);

    bool opened() const { return opened_; }
    const std::string& text_sent() const { return text_sent_; }  // the first choice's content so far
    std::int64_t tokens_sent() const { return tokens_sent_; }

private:
    Task<void> open();
    Task<void> flush_held();

    ClientStream& client_;
    core::ClientView view_;
    Headers headers_;
    bool opened_ = false;
    bool role_sent_ = false;
    bool committed_ = false;
    std::vector<std::string> held_;
    std::string text_sent_;
    std::int64_t tokens_sent_ = 0;
};

}  // namespace hiro::server
