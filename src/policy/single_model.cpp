#include "core/error.h"
#include "policy/policy_spec.h"
#include "policy/registry.h"

namespace hiro::policy {
namespace {

class SingleModel final : public Policy {
public:
    explicit SingleModel(std::string model) : Policy({std::move(model)}) {}

    std::string describe() const override { return tiers()[0]; }

    Step next(const QueryView&, const Decision& so_far) const override {
        return so_far.asked.empty() ? Step::ask_tier(0) : Step::answer_with(0, StopReason::only_tier);
    }
};

}  // namespace

std::unique_ptr<Policy> make_single_model(const PolicySpec& spec) {
    if (spec.tiers.size() != 1) {
        throw core::Error(core::ErrorCode::invalid_input, "policy 'single' takes exactly one tier, got " + std::to_string(spec.tiers.size()));
    }
    return std::make_unique<SingleModel>(spec.tiers[0]);
}

}  // namespace hiro::policy
