#include <algorithm>

#include "core/error.h"
#include "policy/registry.h"

namespace hiro::policy {
namespace {

// For tiers without a usable confidence: ask every cheap tier (all but the
// last); when at least min_agree of them give the same answer, keep it,
// else ask the last tier. Agreement among independent models is the
// confidence signal.
class ConsistencyCascade final : public Policy {
public:
    ConsistencyCascade(std::vector<std::string> tiers, std::size_t min_agree)
        : Policy(std::move(tiers)), min_agree_(min_agree) {}

    std::string describe() const override {
        std::string out = "agree(" + std::to_string(min_agree_) + " of ";
        for (std::size_t i = 0; i + 1 < tiers().size(); ++i) out += (i ? "," : "") + tiers()[i];
        return out + ") else " + tiers().back();
    }

    Step next(const QueryView&, const Decision& so_far) const override {
        const std::size_t cheap = tiers().size() - 1;
        const auto& asked = so_far.asked;
        if (asked.size() < cheap) return Step::ask_tier(asked.size());
        if (asked.size() > cheap) return Step::answer_with(cheap, StopReason::last_tier);
        std::size_t best = 0;
        std::size_t best_votes = 0;
        for (std::size_t i = 0; i < cheap; ++i) {
            const std::string_view answer = asked[i].signal.answer;
            if (answer.empty()) continue;  // an unknown answer agrees with nothing
            const auto votes = static_cast<std::size_t>(
                std::count_if(asked.begin(), asked.end(), [&](const Asked& a) { return a.signal.answer == answer; }));
            if (votes > best_votes) {
                best = i;
                best_votes = votes;
            }
        }
        return best_votes >= min_agree_ ? Step::answer_with(best, StopReason::agreement) : Step::ask_tier(cheap);
    }

private:
    std::size_t min_agree_;
};

}  // namespace

std::unique_ptr<Policy> make_consistency_cascade(const PolicySpec& spec) {
    if (spec.tiers.size() < 3) {
        throw core::Error(core::ErrorCode::invalid_input,
                          "policy 'consistency' needs at least two cheap tiers and a last tier");
    }
    const std::size_t cheap = spec.tiers.size() - 1;
    const double min_agree = spec.param("min_agree", static_cast<double>(cheap));
    if (min_agree < 1 || min_agree > static_cast<double>(cheap) || min_agree != static_cast<std::size_t>(min_agree)) {
        throw core::Error(core::ErrorCode::invalid_input,
                          "policy 'consistency': min_agree must be a whole number from 1 to " + std::to_string(cheap));
    }
    return std::make_unique<ConsistencyCascade>(spec.tiers, static_cast<std::size_t>(min_agree));
}

}  // namespace hiro::policy
