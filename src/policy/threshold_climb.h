#pragma once

#include <span>

#include "policy/policy.h"

namespace hiro::policy {

// The cascade step every cascading policy shares: ask tiers from `first` up
// and keep the first answer whose confidence reaches its tier's threshold;
// the last tier always answers.
Decision climb_from(std::size_t first, std::size_t tier_count, std::span<const double> thresholds, TierAccess& access);

}  // namespace hiro::policy
