#include <sstream>

#include "core/error.h"
#include "policy/registry.h"
#include "policy/router_model.h"

namespace hiro::policy {
namespace {

// Routes each query, before any tier runs, to the tier with the best
// predicted quality - lambda x relative cost. Two tiers and a swept lambda
// give RouteLLM's threshold router; N tiers give RouterBench's utility router.
class UtilityRouter final : public Policy {
public:
    UtilityRouter(std::vector<std::string> tiers, std::shared_ptr<const RouterModel> model, double lambda)
        : Policy(std::move(tiers)), model_(std::move(model)), lambda_(lambda) {}

    std::string describe() const override {
        std::ostringstream out;
        out << "router(lambda " << lambda_ << ") over " << tiers().size() << " tiers";
        return out.str();
    }

    Step next(const QueryView& query, const Decision& so_far) const override {
        if (!so_far.asked.empty()) return Step::answer_with(so_far.asked.front().position, StopReason::routed);
        return Step::ask_tier(model_->pick(model_->predict(query.prompt), lambda_));
    }

private:
    std::shared_ptr<const RouterModel> model_;
    double lambda_;
};

}  // namespace

std::unique_ptr<Policy> make_utility_router(const PolicySpec& spec) {
    if (spec.tiers.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "policy 'router' needs at least two tiers");
    return std::make_unique<UtilityRouter>(spec.tiers, load_router_model(spec.model.get(), spec.tiers.size(), "router"),
                                           spec.param("lambda", 0.0));
}

}  // namespace hiro::policy
