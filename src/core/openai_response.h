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
// and the usage; and what hiro must know to hand the chunk on.
struct AnswerDelta {
    std::vector<TokenLogprob> tokens;  // logprob is NaN where the upstream sent none
    std::string text;
    std::string finish_reason;
    std::optional<Usage> usage;
    bool finishes = false;     // some choice has a finish reason: the chunk closes (part of) the answer
    bool role_only = false;    // a chat chunk that only announces the assistant's role
    bool usage_field = false;     // the chunk carries a usage (not null)
    bool logprobs_field = false;  // some choice carries logprobs (not null)
    bool has_choices = false;  // false for the final usage-only chunk
};

// Reads an upstream chunk or response as it came over the wire, without
// building a document: streams pass through hiro untouched unless something
// must change. Throws an upstream Error if it is not JSON of the OpenAI shape.
AnswerDelta read_delta(std::string_view json, Endpoint endpoint);
AnswerDelta parse_openai_delta(const Json& body, Endpoint endpoint);

// What the client asked to receive, for handing an answer on.
struct ClientView {
    Endpoint endpoint = Endpoint::chat;
    bool logprobs = false;       // else logprobs hiro asked for to judge the answer are removed
    bool include_usage = false;  // streams: else the usage hiro asked for is removed
};

// Hands a whole response (JSON text) on: logprobs only if asked.
std::string prepare_response(std::string body, const ClientView& client);
// A JSON object's text with one more field at its end; the rest of the text
// stays as it was.
std::string with_field(std::string object, std::string_view key, const Json& value);
// Whether a response or stream chunk must change before the client sees it:
// usage or logprobs the client did not ask for.
bool needs_preparing(const AnswerDelta& delta, const ClientView& client, bool whole_response = false);
// Hands a stream chunk on; false when nothing is left for the client (a
// usage-only chunk the client did not ask for).
bool prepare_chunk(Json& chunk, const ClientView& client);

// The stream chunks that carry a whole response, for a client that streams an
// answer hiro had to judge before sending it: the role, one chunk per token
// (or one for the whole content), tool calls, the finish reason, and the
// usage chunk.
std::vector<Json> chunks_of(std::string_view response, Endpoint endpoint);

// Pieces of hiro's own answers (the local tier's, in llama-server's shape).
Json usage_json(const Usage& usage);
// A choice's "logprobs" (each token's id, text, bytes and top alternatives);
// null when the tokens carry no log-probability: none are made up.
Json logprobs_json(const std::vector<TokenLogprob>& tokens);
Json openai_error(std::string_view message, std::string_view type, std::string_view code = {});

}  // namespace hiro::core
