#pragma once

#include <span>
#include <vector>

namespace hiro::policy {

// Maps a tier's raw confidence (log-probability) to P(correct). Both maps are
// monotone, so a cascade threshold on the calibrated scale is a threshold on
// the raw one: calibration changes what a number means, not which queries a
// threshold separates.

// Platt scaling: P = sigmoid(a x + b), fitted by Newton's method on the
// log-loss (-inf confidences are read as a very low finite value).
struct PlattScaling {
    double a = 1.0, b = 0.0;
    double operator()(double confidence) const;
};
PlattScaling fit_platt(std::span<const double> confidence, std::span<const double> correct);

// Isotonic regression (pool adjacent violators): the non-decreasing step
// function closest to the labels; between steps the lower step applies.
struct IsotonicMap {
    std::vector<double> upper;        // each step covers confidences <= upper[i]
    std::vector<double> probability;  // non-decreasing
    double operator()(double confidence) const;
};
IsotonicMap fit_isotonic(std::span<const double> confidence, std::span<const double> correct);

// Expected calibration error: the share-weighted mean |accuracy - mean
// predicted probability| over `bins` equal-width probability bins.
double expected_calibration_error(std::span<const double> probability, std::span<const double> correct, std::size_t bins = 10);

}  // namespace hiro::policy
