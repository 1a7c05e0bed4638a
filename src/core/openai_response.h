#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/query.h"

namespace hiro::core {

// The OpenAI response format, both sides: what hiro reads from upstream
// answers (whole bodies and stream chunks), how it hands them on to the
// client, and the answers and errors hiro writes itself.

// What one streamed chunk (or a whole non-streamed response) carries for
// hiro's decisions: the first choice's tokens and text, its finish reason,
// and the usage.
struct AnswerDelta {
    std::vector<TokenLogprob> tokens;  // logprob is NaN where the upstream sent none
    std::string text;
    std::string finish_reason;
    std::optional<Usage> usage;
};

// Reads an upstream chunk / response; throws an upstream Error if it is not
// the OpenAI shape.
AnswerDelta parse_openai_delta(const Json& body, Endpoint endpoint);

// What the client asked to receive, for handing an answer on.
struct ClientView {
    Endpoint endpoint = Endpoint::chat;
    std::string model;           // the name the client asked for: hiro owns "model"
    bool logprobs = false;       // else logprobs hiro asked for to judge the answer are removed
    bool include_usage = false;  // streams: else the usage hiro asked for is removed
};

// Hands a whole response on: the client's model name, logprobs only if asked.
void prepare_response(Json& body, const ClientView& client);
// Hands a stream chunk on; false when nothing is left for the client (a
// usage-only chunk the client did not ask for).
bool prepare_chunk(Json& chunk, const ClientView& client);

// The stream chunks that carry a whole response, for a client that streams an
// answer hiro had to judge before sending it: the role, one chunk per token
// (or one for the whole content), tool calls, the finish reason, and the
// usage chunk.
std::vector<Json> chunks_of(const Json& response, Endpoint endpoint);

// Whether a chunk is a usage-only chunk (no choices).
bool is_usage_chunk(const Json& chunk);

// hiro's own answers (the local tier's, in llama-server's shape).
Json openai_response(const Answer& answer, Endpoint endpoint, const std::string& model, const std::string& id, bool with_logprobs);
Json openai_chunk(const std::vector<TokenLogprob>& tokens, std::string_view finish_reason, Endpoint endpoint, const std::string& model,
                  const std::string& id, bool with_logprobs);
Json usage_json(const Usage& usage);
Json openai_error(std::string_view message, std::string_view type, std::string_view code = {});

}  // namespace hiro::core
