#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hiro::core {

// JSON as hiro passes it on: keys keep the order they came in.
using Json = nlohmann::ordered_json;

// The two OpenAI generation endpoints hiro serves and asks.
enum class Endpoint { chat, completions };

// A request as every tier sees it: the client's OpenAI request body, which
// OpenAI-compatible tiers forward as it is and the local tier reads as
// llama-server does. `model`, `stream` and `stream_options` are not in it:
// each tier sets them for itself.
struct Query {
    std::string id;
    Endpoint endpoint = Endpoint::chat;
    Json body = Json::object();
};

// A chat (or, for Endpoint::completions, a raw prompt) query built by hiro
// itself (record, benchmarks): `fields` adds OpenAI fields such as max_tokens.
Query chat_query(std::string id, const std::vector<std::pair<std::string, std::string>>& messages,
                 Json fields = Json::object());
Query prompt_query(std::string id, std::string prompt, Json fields = Json::object());

// The text a policy judges a query by before any tier answers (routers read
// it): the raw prompt, or a chat's last user message (its text parts joined),
// which is what outcome files record as "prompt" and routers are trained on.
std::string policy_text(const Query& query);

// The query that continues an answer broken off after `text` (`tokens` of
// it): the text as an assistant prefill (or a prompt suffix), and what is left
// of max_tokens. Another tier, or endpoint, then carries the stream on.
Query continued_query(Query query, const std::string& text, std::int64_t tokens);

struct ChatMessage {
    std::string role;  // "system", "user" or "assistant"
    std::string content;
};

// How the local engine samples (the OpenAI fields it understands).
struct GenerationParams {
    int max_tokens = -1;       // -1: until the model stops or the context is full
    double temperature = 0.0;  // 0 = greedy
    double top_p = 1.0;
    std::uint32_t seed = 0;
    std::vector<std::string> stop;
    int top_logprobs = 0;  // alternatives to report per generated token
};

struct TokenAlternative {
    std::int32_t id = -1;
    std::string text;
    double logprob = 0.0;
};

// One generated token with its log-probability under the model and the
// most likely alternatives at that position.
struct TokenLogprob {
    std::int32_t id = -1;
    std::string text;
    double logprob = 0.0;
    std::vector<TokenAlternative> top;
};

struct Usage {
    std::int64_t prompt_tokens = 0;
    std::int64_t completion_tokens = 0;
};

// What one tier answered.
struct Answer {
    std::string text;                  // the first choice's content (or text)
    std::vector<TokenLogprob> tokens;  // its tokens, with log-probabilities when the tier gave them
    Usage usage;
    std::string finish_reason;  // "stop", "length", "tool_calls", ... or "cancelled"
    double latency_ms = 0.0;
    double ttft_ms = 0.0;
    double cost_usd = 0.0;
    double energy_j = 0.0;
    std::string served_by;  // which endpoint of the tier's pool answered
    // The whole OpenAI response body (JSON text) as the tier gave it; empty
    // when the answer was streamed chunk by chunk instead.
    std::string response;
};

}  // namespace hiro::core
