#include <limits>

#include "policy/confidence_estimator.h"

namespace hiro::policy {
namespace {

// The first generated token's log-probability: for a multiple-choice letter or
// a one-word answer it is the answer itself (the recorded outcome files call
// this signal answer_logprob).
class AnswerLogprob final : public ConfidenceEstimator {
public:
    std::string_view name() const override { return "answer_logprob"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override {
        return tokens.empty() ? -std::numeric_limits<double>::infinity() : tokens.front().logprob;
    }
};

}  // namespace

std::unique_ptr<ConfidenceEstimator> make_answer_logprob() { return std::make_unique<AnswerLogprob>(); }

}  // namespace hiro::policy
