#include "policy/policy.h"

namespace hiro::policy {

std::string_view to_string(StopReason reason) {
    switch (reason) {
        case StopReason::only_tier: return "only_tier";
        case StopReason::confident: return "confident";
        case StopReason::last_tier: return "last_tier";
        case StopReason::routed: return "routed";
        case StopReason::agreement: return "agreement";
        case StopReason::oracle: return "oracle";
    }
    return "unknown";
}

}  // namespace hiro::policy
