#include "policy/confidence_estimator.h"
#include "policy/token_math.h"

namespace hiro::policy {
namespace {

// Perplexity on the cascade's scale: -log(perplexity), which is the mean token
// log-probability (it ranks answers exactly as mean_logprob does; a threshold
// T here means perplexity <= exp(-T)).
class Perplexity final : public ConfidenceEstimator {
public:
    std::string_view name() const override { return "perplexity"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override { return mean_token_logprob(tokens); }
};

}  // namespace

std::unique_ptr<ConfidenceEstimator> make_perplexity() { return std::make_unique<Perplexity>(); }

}  // namespace hiro::policy
