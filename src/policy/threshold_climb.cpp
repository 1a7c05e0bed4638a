#include "policy/threshold_climb.h"

namespace hiro::policy {

Decision climb_from(std::size_t first, std::size_t tier_count, std::span<const double> thresholds, TierAccess& access) {
    Decision d;
    const std::size_t last = tier_count - 1;
    for (std::size_t i = first; i <= last; ++i) {
        const double confidence = access.ask(i).confidence;
        d.tried.push_back(i);
        d.confidences.push_back(confidence);
        if (i == last || confidence >= thresholds[i]) {
            d.chosen = i;
            d.reason = i == last ? StopReason::last_tier : StopReason::confident;
            break;
        }
    }
    return d;
}

}  // namespace hiro::policy
