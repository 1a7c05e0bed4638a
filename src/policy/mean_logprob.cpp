#include <limits>

#include "policy/confidence_estimator.h"

namespace hiro::policy {
namespace {

class MeanLogprob final : public ConfidenceEstimator {
public:
    std::string_view name() const override { return "mean_logprob"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override {
        if (tokens.empty()) return -std::numeric_limits<double>::infinity();  // nothing generated: no confidence
        double sum = 0.0;
        for (const auto& t : tokens) sum += t.logprob;
        return sum / static_cast<double>(tokens.size());
    }
};

}  // namespace

std::unique_ptr<ConfidenceEstimator> make_mean_logprob() { return std::make_unique<MeanLogprob>(); }

}  // namespace hiro::policy
