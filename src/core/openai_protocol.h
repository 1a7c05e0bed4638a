#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/query.h"

namespace hiro::core {

// The OpenAI wire format, both sides: what hiro's gateway reads from clients
// and writes back, and what it sends to and reads from OpenAI-compatible
// upstreams (llama-server, vLLM, Ollama, cloud APIs).

enum class Endpoint { chat, completions };

struct OpenAIRequest {
    Endpoint endpoint = Endpoint::chat;
    std::string model;
    bool stream = false;
    bool logprobs = false;   // the client wants logprobs in its answer
    Query query;
};

// Parses a client's request body; throws an invalid_input Error naming the field.
OpenAIRequest parse_openai_request(std::string_view body, Endpoint endpoint);

// The body hiro sends upstream: always streaming (time to first token,
// continuation after a broken stream) and always asking for logprobs.
std::string upstream_request_body(const Query& query, Endpoint endpoint, const std::string& model, int top_logprobs);

// What one streamed chunk (or a whole non-streamed response) carries.
struct AnswerDelta {
    std::vector<TokenLogprob> tokens;  // logprob is NaN where the upstream sent none
    std::string finish_reason;
    std::optional<Usage> usage;
};

// Reads an upstream chunk / response; throws an upstream Error if it is not
// the OpenAI shape.
AnswerDelta parse_openai_delta(const nlohmann::json& body, Endpoint endpoint);

// hiro's own responses to clients.
nlohmann::json openai_response(const Answer& answer, Endpoint endpoint, const std::string& model, const std::string& id,
                               bool with_logprobs);
nlohmann::json openai_chunk(const std::vector<TokenLogprob>& tokens, std::string_view finish_reason, Endpoint endpoint,
                            const std::string& model, const std::string& id, bool with_logprobs);
nlohmann::json openai_error(std::string_view message, std::string_view type, std::string_view code = {});

}  // namespace hiro::core
