#include <sstream>

#include "core/error.h"
#include "policy/registry.h"
#include "policy/threshold_climb.h"
#include "policy/router_model.h"

namespace hiro::policy {
namespace {

// Route, then cascade: the router picks the starting tier (skipping cheap
// tiers it predicts will fail), then each tier from there on keeps its answer
// when its confidence reaches its threshold, else the next tier is asked.
class RouteCascade final : public Policy {
public:
    RouteCascade(std::vector<std::string> tiers, std::shared_ptr<const RouterModel> model, double lambda, std::vector<double> thresholds)
        : Policy(std::move(tiers)), model_(std::move(model)), lambda_(lambda), thresholds_(std::move(thresholds)) {}

    std::string describe() const override {
        std::ostringstream out;
        out << "route(lambda " << lambda_ << ") then cascade";
        for (double t : thresholds_) out << " " << t;
        return out.str();
    }

    Step next(const QueryView& query, const Decision& so_far) const override {
        // The router scores the query once, before the first step.
        const std::size_t first = so_far.asked.empty() ? model_->pick(model_->predict(query.prompt), lambda_) : 0;
        return climb_from(first, tiers().size(), thresholds_, so_far);
    }

private:
    std::shared_ptr<const RouterModel> model_;
    double lambda_;
    std::vector<double> thresholds_;
};

}  // namespace

std::unique_ptr<Policy> make_route_cascade(const PolicySpec& spec) {
    if (spec.tiers.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "policy 'route_cascade' needs at least two tiers");
    if (spec.thresholds.size() != spec.tiers.size() - 1) {
        throw core::Error(core::ErrorCode::invalid_input, "policy 'route_cascade' over " + std::to_string(spec.tiers.size()) +
                                                              " tiers needs " + std::to_string(spec.tiers.size() - 1) +
                                                              " thresholds (one per tier but the last)");
    }
    return std::make_unique<RouteCascade>(spec.tiers, load_router_model(spec.model.get(), spec.tiers.size(), "route_cascade"),
                                          spec.param("lambda", 0.0), spec.thresholds);
}

}  // namespace hiro::policy
