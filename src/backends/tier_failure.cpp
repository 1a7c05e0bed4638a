#include "backends/tier_failure.h"

#include "backends/tier.h"

namespace hiro::backends {

Task<std::string> Tier::embed(const core::Json&) {
    throw TierFailure(FailureKind::client_error, 400, "", "tier '" + name() + "' does not compute embeddings",
                      core::openai_error("tier '" + name() + "' does not compute embeddings", "invalid_request_error").dump());
    co_return std::string();
}

std::string_view to_string(FailureKind kind) {
    switch (kind) {
        case FailureKind::refused: return "refused";
        case FailureKind::timeout: return "timeout";
        case FailureKind::dropped: return "dropped";
        case FailureKind::http_error: return "http_error";
        case FailureKind::rate_limited: return "rate_limited";
        case FailureKind::client_error: return "client_error";
        case FailureKind::garbage: return "garbage";
        case FailureKind::busy: return "busy";
        case FailureKind::overflow: return "overflow";
    }
    return "unknown";
}

}  // namespace hiro::backends
