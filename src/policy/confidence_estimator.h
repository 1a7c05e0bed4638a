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

// Builds a registered estimator by name (confidence_kinds.def); throws an
// invalid_input core::Error naming the known ones for an unknown name.
std::unique_ptr<ConfidenceEstimator> make_confidence_estimator(std::string_view name);

}  // namespace hiro::policy
