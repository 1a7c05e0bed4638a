#include <cmath>
#include <limits>

#include "core/error.h"
#include "policy/confidence_estimator.h"

namespace hiro::policy {
namespace {

// log of the mean gap p(best) - p(second best) over the generated tokens:
// <= 0, 0 when the model never hesitated between two tokens, -inf when every
// position was a tie. Needs at least two reported alternatives per token.
class Top2Margin final : public ConfidenceEstimator {
public:
    std::string_view name() const override { return "top2_margin"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override {
        if (tokens.empty()) return -std::numeric_limits<double>::infinity();
        double sum = 0.0;
        for (const auto& t : tokens) {
            if (t.top.size() < 2) {
                throw core::Error(core::ErrorCode::invalid_input,
                                  "confidence top2_margin needs two alternatives per token: ask the tier for top_logprobs >= 2");
            }
            sum += std::exp(t.top[0].logprob) - std::exp(t.top[1].logprob);
        }
        return std::log(sum / static_cast<double>(tokens.size()));
    }
};

}  // namespace

std::unique_ptr<ConfidenceEstimator> make_top2_margin() { return std::make_unique<Top2Margin>(); }

}  // namespace hiro::policy
