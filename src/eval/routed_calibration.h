#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/outcome.h"
#include "eval/cascade_calibration.h"
#include "policy/policy_spec.h"

namespace hiro::eval {

// A router tuned on train to the same target as a cascade, for comparing
// router alone, cascade alone and route-then-cascade on the same split. The
// router is fitted on all of `train`; lambda and thresholds are chosen on its
// out-of-fold predictions for the train queries (k folds of train), so no
// choice sees a prediction made by a model that trained on that query.
struct RoutedCalibration {
    policy::PolicySpec router_alone;   // kind "router", lambda tuned to the target
    policy::PolicySpec route_cascade;  // kind "route_cascade", lambda and thresholds tuned
    double router_train_accuracy = 0.0, router_train_cost = 0.0;
    bool router_met = false;
    CascadeCalibration cascade;  // of route_cascade, on train
};

RoutedCalibration calibrate_routed(const core::OutcomeSet& train, const std::vector<std::string>& chain, const std::string& router_method,
                                   const CalibrationTarget& target, const CalibrationOptions& options, std::size_t folds);

}  // namespace hiro::eval
