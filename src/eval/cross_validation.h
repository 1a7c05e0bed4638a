#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/outcome.h"

namespace hiro::eval {

// The rows of `set` at `rows`, in that order (a split or a fold of a file).
core::OutcomeSet subset(const core::OutcomeSet& set, std::span<const std::size_t> rows);

// The rows whose `split` field equals `split`; throws an invalid_input Error
// naming the splits the file has when none does.
std::vector<std::size_t> rows_of_split(const core::OutcomeSet& set, const std::string& split);

struct Fold {
    std::vector<std::size_t> train, test;  // row numbers; disjoint, together every row
};

// Seeded, stratified k-fold cross-validation: rows with the same pattern of
// which models answered correctly (for more than 6 models: how many did) are
// shuffled and dealt round-robin over the folds, so every fold keeps the
// file's mix of easy and hard queries.
std::vector<Fold> stratified_folds(const core::OutcomeSet& set, std::size_t k, std::uint64_t seed);

// Mean and spread of a figure over folds.
struct Spread {
    double mean = 0.0, sd = 0.0, min = 0.0, max = 0.0;
};
Spread spread_of(std::span<const double> values);

}  // namespace hiro::eval
