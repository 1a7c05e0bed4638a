#include "eval/router_selection.h"

#include "core/error.h"
#include "eval/router_evaluation.h"

namespace hiro::eval {
namespace {

// APGR of `method`'s predictions on `test` after fitting on `train`.
double held_out_apgr(const core::OutcomeSet& train, const core::OutcomeSet& test, const RouterTrainOptions& options) {
    const Predictions p = predict_quality(*train_router(train, options), test);
    return router_metrics(test, test.model_index(options.tiers.front()), test.model_index(options.tiers.back()),
                          gain_scores(p, 0, options.tiers.size() - 1))
        .apgr;
}

}  // namespace

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
            const Predictions p = out_of_fold_predictions(train, inner, [&](const core::OutcomeSet& fit_on, const core::OutcomeSet& predict_on) {
                return predict_quality(*train_router(fit_on, options), predict_on);
            });
            const double apgr = router_metrics(train, train.model_index(options.tiers.front()), train.model_index(options.tiers.back()),
                                               gain_scores(p, 0, options.tiers.size() - 1))
                                    .apgr;
            if (apgr > best_apgr) {
                best_apgr = apgr;
                best = method;
            }
        }
        options.method = best;
        result.picked.push_back(best);
        result.inner_apgr.push_back(best_apgr);
        result.fold_apgr.push_back(held_out_apgr(train, subset(set, outer[f].test), options));
    }
    return result;
}

}  // namespace hiro::eval
