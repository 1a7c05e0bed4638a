#pragma once

#include <string>
#include <vector>

#include "core/outcome.h"
#include "eval/cross_validation.h"
#include "eval/router_training.h"

namespace hiro::eval {

// Picking the best of several router methods on the folds that also measure
// it flatters the winner. Nested cross-validation prices that choice in: for
// each outer fold, the method is chosen by the APGR of an inner k-fold
// cross-validation of the fold's training rows alone, refitted on them, and
// measured on the fold's test rows.
struct NestedSelection {
    std::vector<std::string> picked;  // per outer fold
    std::vector<double> inner_apgr;   // why it was picked: its inner-CV APGR
    std::vector<double> fold_apgr;    // of the picked method, per outer fold
};

// `options.tiers` are the router's tiers; APGR is between the first and last.
NestedSelection nested_router_selection(const core::OutcomeSet& set, const std::vector<Fold>& outer, std::size_t inner_folds,
                                        std::uint64_t seed, const std::vector<std::string>& methods, RouterTrainOptions options);

}  // namespace hiro::eval
