#include "eval/router_selection.h"

#include "core/error.h"
#include "eval/router_evaluation.h"

namespace hiro::eval {

NestedSelection nested_router_selection(const core::OutcomeSet& set, const std::vector<Fold>& outer, std::size_t inner_folds,
                                        std::uint64_t seed, const std::vector<std::string>& methods, RouterTrainOptions options) {
    if (methods.empty()) throw core::Error(core::ErrorCode::invalid_input, "nested selection needs at least one router method");
    NestedSelection result;
    for (std::size_t f = 0; f < outer.size(); ++f) {
        const core::OutcomeSet train = subset(set, outer[f].train);
        const auto inner = stratified_folds(train, inner_folds, seed + 1 + f);
        std::string best;
        double best_apgr = -1e300;
        for (const auto& method : methods) {
            options.method = method;
            const Predictions p = out_of_fold_predictions(train, inner, router_trainer(options));
            const double apgr = router_metrics(train, options.tiers, p).apgr;
            if (apgr > best_apgr) {
                best_apgr = apgr;
                best = method;
            }
        }
        options.method = best;
        result.picked.push_back(best);
        result.inner_apgr.push_back(best_apgr);
        const core::OutcomeSet test = subset(set, outer[f].test);
        result.fold_apgr.push_back(router_metrics(test, options.tiers, router_trainer(options)(train, test)).apgr);
    }
    return result;
}

}  // namespace hiro::eval
