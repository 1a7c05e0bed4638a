#include "core/error.h"
#include "policy/registry.h"

namespace hiro::policy {
namespace {

// Knows which tiers answer correctly and pays only the cheapest of those (or
// the cheapest tier when none does): the upper bound no real policy reaches.
class Oracle final : public Policy {
public:
    explicit Oracle(std::vector<std::string> tiers) : Policy(std::move(tiers)) {}

    std::string describe() const override { return "oracle"; }

    Decision decide(const QueryView&, TierAccess& access) const override {
        std::size_t chosen = 0;
        for (std::size_t i = 0; i < tiers().size(); ++i) {
            auto correct = access.known_correct(i);
            if (!correct) {
                throw core::Error(core::ErrorCode::unsupported,
                                  "the oracle needs recorded correctness: it runs only offline (hiro eval)");
            }
            if (*correct) {
                chosen = i;
                break;
            }
        }
        return Decision{{chosen}, {access.ask(chosen).confidence}, chosen, StopReason::oracle};
    }
};

}  // namespace

std::unique_ptr<Policy> make_oracle(const PolicySpec& spec) { return std::make_unique<Oracle>(spec.tiers); }

}  // namespace hiro::policy
