#include <cmath>
#include <limits>

#include "policy/confidence_estimator.h"
#include "policy/token_math.h"

namespace hiro::policy {
namespace {

// Minus the mean normalised entropy of the next-token distribution: at each
// position the entropy of the reported top-k alternatives plus one bucket for
// the unreported rest, divided by log(k + 1) so it lies in [0, 1] whatever k
// the tier reported. The result lies in [-1, 0]; 0 = certain at every token.
class MeanEntropy final : public ConfidenceEstimator {
public:
    std::string_view name() const override { return "mean_entropy"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override {
        if (tokens.empty()) return -std::numeric_limits<double>::infinity();
        double sum = 0.0;
        for (const auto& t : tokens) {
            const std::vector<double> p = reported_distribution(t);
            double h = 0.0;
            for (double x : p) h -= x > 0.0 ? x * std::log(x) : 0.0;
            sum += h / std::log(static_cast<double>(p.size()));
        }
        return -sum / static_cast<double>(tokens.size());
    }
};

}  // namespace

std::unique_ptr<ConfidenceEstimator> make_mean_entropy() { return std::make_unique<MeanEntropy>(); }

}  // namespace hiro::policy
