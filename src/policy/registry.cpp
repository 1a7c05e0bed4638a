#include "policy/registry.h"

#include "core/error.h"
#include "policy/kind_lookup.h"

namespace hiro::policy {

#define HIRO_POLICY(name, factory, summary) std::unique_ptr<Policy> factory(const PolicySpec&);
#include "policy/policy_kinds.def"
#undef HIRO_POLICY

namespace {
constexpr PolicyKind kinds[] = {
#define HIRO_POLICY(name, factory, summary) {#name, factory, summary},
#include "policy/policy_kinds.def"
#undef HIRO_POLICY
};
}  // namespace

std::span<const PolicyKind> policy_kinds() { return kinds; }

std::unique_ptr<Policy> make_policy(const PolicySpec& spec) {
    const PolicyKind& kind = find_kind<PolicyKind>(kinds, spec.kind, "policy");
    if (spec.tiers.empty()) throw core::Error(core::ErrorCode::invalid_input, "policy '" + spec.kind + "' needs at least one tier");
    return kind.make(spec);
}

}  // namespace hiro::policy
