#include "policy/confidence_estimator.h"
#include "policy/token_math.h"

namespace hiro::policy {
namespace {

class MeanLogprob final : public ConfidenceEstimator {
public:
    std::string_view name() const override { return "mean_logprob"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override { return mean_token_logprob(tokens); }
};

}  // namespace

std::unique_ptr<ConfidenceEstimator> make_mean_logprob() { return std::make_unique<MeanLogprob>(); }

}  // namespace hiro::policy
