#include "policy/threshold_learner.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace hiro::policy {

std::vector<double> threshold_grid(std::size_t resolution, std::optional<double> warm_start) {
    if (resolution < 1) throw core::Error(core::ErrorCode::invalid_input, "a threshold grid needs a resolution of at least 1");
    constexpr double inf = std::numeric_limits<double>::infinity();
    std::vector<double> grid{-inf};
    for (std::size_t k = 1; k <= resolution; ++k) grid.push_back(std::log(static_cast<double>(k) / static_cast<double>(resolution)));
    grid.push_back(inf);
    if (warm_start && !std::isnan(*warm_start)) grid.push_back(*warm_start);
    std::sort(grid.begin(), grid.end());
    grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
    return grid;
}

std::unique_ptr<ThresholdLearner> make_threshold_learner(const LearnerOptions& options) {
    if (options.kind == "exp_weights") return make_exp_weights_learner(options);
    if (options.kind == "lcb") return make_lcb_learner(options);
    if (options.kind == "target") return make_target_controller(options);
    throw core::Error(core::ErrorCode::invalid_input,
                      "unknown threshold learner '" + options.kind + "'; known: exp_weights, lcb, target");
}

}  // namespace hiro::policy
