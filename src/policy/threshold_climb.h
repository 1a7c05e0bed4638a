#pragma once

#include <span>

#include "policy/policy.h"

namespace hiro::policy {

// The cascade step every cascading policy shares: ask tiers from `first` up
// and keep the first answer whose confidence reaches its tier's threshold;
// the last tier always answers. `first` matters only before any tier was asked.
Step climb_from(std::size_t first, std::size_t tier_count, std::span<const double> thresholds, const Decision& so_far);

}  // namespace hiro::policy
