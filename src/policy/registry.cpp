#include "policy/registry.h"

#include "core/error.h"

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
    for (const auto& kind : kinds) {
        if (kind.name == spec.kind) {
            if (spec.tiers.empty()) {
                throw core::Error(core::ErrorCode::invalid_input, "policy '" + spec.kind + "' needs at least one tier");
            }
            return kind.make(spec);
        }
    }
    std::string known;
    for (const auto& kind : kinds) known += (known.empty() ? "" : ", ") + std::string(kind.name);
    throw core::Error(core::ErrorCode::invalid_input, "unknown policy '" + spec.kind + "'; known policies: " + known);
}

}  // namespace hiro::policy
