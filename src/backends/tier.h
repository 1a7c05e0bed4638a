#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "core/query.h"

namespace hiro::backends {

// Receives each token as a tier generates it (for streaming). Returning false
// asks the tier to stop early, like a cancelled request.
using TokenSink = std::function<bool(const core::TokenLogprob& token)>;

// One model tier: the in-process llama.cpp engine, an OpenAI-compatible
// upstream, a replay of recorded outcomes, ... `generate` blocks its calling
// thread until the answer is complete, the sink declines more tokens, or
// `stop` is requested; it throws core::Error (code upstream / cancelled /
// invalid_input) when it cannot answer. Implementations are thread-safe: the
// gateway calls one tier from many threads at once.
class Tier {
public:
    virtual ~Tier() = default;
    virtual const std::string& name() const = 0;
    virtual core::Answer generate(const core::Query& query, const TokenSink& on_token, std::stop_token stop) = 0;
};

}  // namespace hiro::backends
