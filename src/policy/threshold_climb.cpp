#include "policy/threshold_climb.h"

namespace hiro::policy {

Step climb_from(std::size_t first, std::size_t tier_count, std::span<const double> thresholds, const Decision& so_far) {
    if (so_far.asked.empty()) return Step::ask_tier(first);
    const Asked& last = so_far.asked.back();
    if (last.position + 1 == tier_count) return Step::answer_with(last.position, StopReason::last_tier);
    if (last.signal.confidence >= thresholds[last.position]) return Step::answer_with(last.position, StopReason::confident);
    return Step::ask_tier(last.position + 1);
}

}  // namespace hiro::policy
