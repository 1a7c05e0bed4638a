#include <sstream>

#include "core/error.h"
#include "policy/registry.h"

namespace hiro::policy {
namespace {

// Tries tiers cheapest first and keeps the first answer whose confidence
// reaches that tier's threshold; the last tier always answers.
class ThresholdCascade final : public Policy {
public:
    ThresholdCascade(std::vector<std::string> tiers, std::vector<double> thresholds)
        : Policy(std::move(tiers)), thresholds_(std::move(thresholds)) {}

    std::string describe() const override {
        std::ostringstream out;
        for (std::size_t i = 0; i < tiers().size(); ++i) {
            if (i) out << " -> ";
            out << tiers()[i];
            if (i < thresholds_.size()) out << " (>=" << thresholds_[i] << ")";
        }
        return out.str();
    }

    Decision decide(const QueryView&, TierAccess& access) const override {
        Decision d;
        const std::size_t last = tiers().size() - 1;
        for (std::size_t i = 0; i <= last; ++i) {
            const double confidence = access.ask(i).confidence;
            d.tried.push_back(i);
            d.confidences.push_back(confidence);
            if (i == last || confidence >= thresholds_[i]) {
                d.chosen = i;
                d.reason = i == last ? StopReason::last_tier : StopReason::confident;
                break;
            }
        }
        return d;
    }

private:
    std::vector<double> thresholds_;
};

}  // namespace

std::unique_ptr<Policy> make_threshold_cascade(const PolicySpec& spec) {
    if (spec.tiers.size() < 2) {
        throw core::Error(core::ErrorCode::invalid_input, "policy 'cascade' needs at least two tiers");
    }
    if (spec.thresholds.size() != spec.tiers.size() - 1) {
        throw core::Error(core::ErrorCode::invalid_input,
                          "policy 'cascade' over " + std::to_string(spec.tiers.size()) + " tiers needs " +
                              std::to_string(spec.tiers.size() - 1) + " thresholds (one per tier but the last), got " +
                              std::to_string(spec.thresholds.size()));
    }
    return std::make_unique<ThresholdCascade>(spec.tiers, spec.thresholds);
}

}  // namespace hiro::policy
