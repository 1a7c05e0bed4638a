#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/query.h"

namespace hiro::policy {

// Turns a generated answer's per-token log-probabilities into one confidence
// on the log-probability scale the cascade thresholds (<= 0, higher = more
// confident), so recorded and live confidences compare directly.
class ConfidenceEstimator {
public:
    virtual ~ConfidenceEstimator() = default;
    virtual std::string_view name() const = 0;
    virtual double estimate(std::span<const core::TokenLogprob> tokens) const = 0;
};

// The registered estimators' names (confidence_kinds.def), in that order.
std::span<const std::string_view> confidence_names();

// "logistic:FILE.json" names a fitted logistic model (logistic_confidence.h).
inline constexpr std::string_view logistic_prefix = "logistic:";

// Builds a registered estimator by name, or a logistic one from its file;
// throws an invalid_input core::Error naming the known ones for an unknown name.
std::unique_ptr<ConfidenceEstimator> make_confidence_estimator(std::string_view name);

}  // namespace hiro::policy
