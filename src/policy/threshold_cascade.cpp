#include <sstream>

#include "core/error.h"
#include "policy/registry.h"
#include "policy/threshold_climb.h"

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

    Step next(const QueryView&, const Decision& so_far) const override {
        return climb_from(0, tiers().size(), thresholds_, so_far);
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
