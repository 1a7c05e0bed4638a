#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hiro::core {

struct ChatMessage {
    std::string role;  // "system", "user" or "assistant"
    std::string content;
};

struct GenerationParams {
    int max_tokens = 128;
    double temperature = 0.0;  // 0 = greedy
    double top_p = 1.0;
    std::uint32_t seed = 0;
    std::vector<std::string> stop;
    int top_logprobs = 0;  // alternatives to report per generated token
    bool logprobs = true;  // per-token log-probabilities; off where no confidence is needed (saves upstream work)
};

// A request as every tier sees it: chat messages, or a raw prompt when
// `messages` is empty.
struct Query {
    std::string id;
    std::vector<ChatMessage> messages;
    std::string prompt;
    GenerationParams params;
};

// The text a policy judges a query by before any tier answers (routers read
// it): the raw prompt, or a chat's last user message, which is what outcome
// files record as "prompt" and routers are trained on.
inline std::string_view policy_text(const Query& query) {
    for (auto m = query.messages.rbegin(); m != query.messages.rend(); ++m) {
        if (m->role == "user") return m->content;
    }
    return query.prompt;
}

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
    std::string text;
    std::vector<TokenLogprob> tokens;
    Usage usage;
    std::string finish_reason;  // "stop", "length" or "cancelled"
    double latency_ms = 0.0;
    double ttft_ms = 0.0;
    double cost_usd = 0.0;
    double energy_j = 0.0;
};

}  // namespace hiro::core
