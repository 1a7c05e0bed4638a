#include "eval/routed_calibration.h"

#include "eval/cross_validation.h"
#include "eval/router_evaluation.h"
#include "eval/router_training.h"

namespace hiro::eval {

RoutedCalibration calibrate_routed(const core::OutcomeSet& train, const std::vector<std::string>& chain, const std::string& router_method,
                                   const CalibrationTarget& target, const CalibrationOptions& options, std::size_t folds) {
    RouterTrainOptions router_options;
    router_options.method = router_method;
    router_options.tiers = chain;
    router_options.fit.seed = options.seed;
    const auto model = train_router(train, router_options);
    const Predictions oof = out_of_fold_predictions(train, stratified_folds(train, folds, options.seed), router_trainer(router_options));
    const std::vector<double>& cost = model->tier_cost();
    const double n = static_cast<double>(train.size());
    const double strong = train.accuracy(train.model_index(chain.back()));
    RoutedCalibration result;

    // Router alone: the cheapest lambda of the train curve that meets the target
    // (accuracy targets), else the most accurate one within it.
    const auto curve = utility_curve(train, chain, oof, cost);
    const UtilityPoint* pick = nullptr;
    for (const auto& pt : curve) {
        const bool met = meets_target(target, pt.accuracy, pt.cost / n * 1000, 0.0, strong);
        if (!pick || (met && !result.router_met) ||
            (met == result.router_met && (met ? pt.cost < pick->cost : pt.accuracy > pick->accuracy))) {
            pick = &pt;
            result.router_met = met;
        }
    }
    result.router_alone = router_spec(*model, chain, pick->lambda);
    result.router_train_accuracy = pick->accuracy;
    result.router_train_cost = pick->cost;

    // Route then cascade: for each lambda of a grid (the last one starts every
    // query at the first tier: the plain cascade), calibrate the thresholds
    // with the router's starts; keep the cheapest that meets the target.
    double best_lambda = 0.0;
    bool have = false;
    for (double lambda : {0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 1e9}) {
        std::vector<std::size_t> start;
        for (const auto& p : oof) start.push_back(policy::utility_choice(p, cost, lambda));
        const CascadeCalibration c = calibrate_cascade(train, chain, target, options, start);
        const bool better = !have || (c.target_met && !result.cascade.target_met) ||
                            (c.target_met == result.cascade.target_met && c.cost < result.cascade.cost);
        if (better) {
            result.cascade = c;
            best_lambda = lambda;
            have = true;
        }
    }
    result.route_cascade = policy::PolicySpec{"route_cascade", chain, result.cascade.thresholds, {{"lambda", best_lambda}}};
    result.route_cascade.model = result.router_alone.model;
    return result;
}

}  // namespace hiro::eval
