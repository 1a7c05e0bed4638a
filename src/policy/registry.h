#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "policy/policy.h"
#include "policy/policy_spec.h"

namespace hiro::policy {

using PolicyFactory = std::unique_ptr<Policy> (*)(const PolicySpec&);

struct PolicyKind {
    std::string_view name;
    PolicyFactory make;
    std::string_view summary;
};

std::span<const PolicyKind> policy_kinds();

// Builds the policy a spec describes; throws an invalid_input Error for an
// unknown kind (listing the known ones) or a spec the kind cannot use.
std::unique_ptr<Policy> make_policy(const PolicySpec& spec);

}  // namespace hiro::policy
