#include <algorithm>
#include <limits>

#include "policy/confidence_estimator.h"

namespace hiro::policy {
namespace {

// The weakest link: one unlikely token can derail an answer a mean hides.
class MinLogprob final : public ConfidenceEstimator {
public:
    std::string_view name() const override { return "min_logprob"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override {
        double lowest = tokens.empty() ? -std::numeric_limits<double>::infinity() : 0.0;
        for (const auto& t : tokens) lowest = std::min(lowest, t.logprob);
        return lowest;
    }
};

}  // namespace

std::unique_ptr<ConfidenceEstimator> make_min_logprob() { return std::make_unique<MinLogprob>(); }

}  // namespace hiro::policy
