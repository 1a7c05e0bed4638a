#include "eval/cross_validation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "core/error.h"

namespace hiro::eval {

core::OutcomeSet subset(const core::OutcomeSet& set, std::span<const std::size_t> rows) {
    core::OutcomeSet out;
    out.source = set.source;
    out.confidence_signal = set.confidence_signal;
    out.models = set.models;
    out.records.reserve(rows.size());
    for (std::size_t r : rows) out.records.push_back(set.records.at(r));
    return out;
}

std::vector<std::size_t> rows_of_split(const core::OutcomeSet& set, const std::string& split) {
    std::vector<std::size_t> rows;
    std::set<std::string> seen;
    for (std::size_t r = 0; r < set.size(); ++r) {
        if (set.records[r].split == split) rows.push_back(r);
        seen.insert(set.records[r].split.empty() ? "(none)" : set.records[r].split);
    }
    if (rows.empty()) {
        std::string known;
        for (const auto& s : seen) known += (known.empty() ? "" : ", ") + s;
        throw core::Error(core::ErrorCode::invalid_input,
                          set.source + " has no query with \"split\": \"" + split + "\" (its splits: " + known +
                              "); leave out --split to use every query");
    }
    return rows;
}

std::vector<Fold> stratified_folds(const core::OutcomeSet& set, std::size_t k, std::uint64_t seed) {
    if (k < 2 || k > set.size()) {
        throw core::Error(core::ErrorCode::invalid_input,
                          "--folds must be from 2 to the number of queries (" + std::to_string(set.size()) + "), got " + std::to_string(k));
    }
    std::map<std::uint64_t, std::vector<std::size_t>> strata;
    for (std::size_t r = 0; r < set.size(); ++r) {
        std::uint64_t key = 0;
        for (std::size_t m = 0; m < set.models.size(); ++m) {
            const bool c = set.records[r].models[m].correct;
            key = set.models.size() <= 6 ? (key << 1) | (c ? 1 : 0) : key + (c ? 1 : 0);
        }
        strata[key].push_back(r);
    }
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> fold_of(set.size());
    std::size_t next = 0;  // continue dealing where the last stratum stopped, so folds stay even in size
    for (auto& [key, rows] : strata) {
        std::shuffle(rows.begin(), rows.end(), rng);
        for (std::size_t r : rows) fold_of[r] = next++ % k;
    }
    std::vector<Fold> folds(k);
    for (std::size_t r = 0; r < set.size(); ++r) {
        for (std::size_t f = 0; f < k; ++f) (f == fold_of[r] ? folds[f].test : folds[f].train).push_back(r);
    }
    return folds;
}

Spread spread_of(std::span<const double> values) {
    Spread s;
    if (values.empty()) return s;
    double sum = 0, sq = 0;
    for (double v : values) {
        sum += v;
        sq += v * v;
    }
    const auto n = static_cast<double>(values.size());
    s.mean = sum / n;
    s.sd = values.size() > 1 ? std::sqrt(std::max(0.0, (sq - n * s.mean * s.mean) / (n - 1))) : 0.0;
    s.min = *std::min_element(values.begin(), values.end());
    s.max = *std::max_element(values.begin(), values.end());
    return s;
}

}  // namespace hiro::eval
