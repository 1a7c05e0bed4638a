#include <cstdint>
#include <sstream>

#include "core/error.h"
#include "policy/registry.h"
#include "policy/stable_hash.h"

namespace hiro::policy {
namespace {

// Sends a fixed share of queries to the last (strong) tier and the rest to the
// first, chosen by a seeded hash of the query id: the same query always goes
// the same way, offline and online. The baseline every router must beat.
class RandomRouter final : public Policy {
public:
    RandomRouter(std::vector<std::string> tiers, double strong_share, std::uint64_t seed)
        : Policy(std::move(tiers)), strong_share_(strong_share), seed_(seed) {}

    std::string describe() const override {
        std::ostringstream out;
        out << "random " << strong_share_ * 100 << "% -> " << tiers().back();
        return out.str();
    }

    Step next(const QueryView& query, const Decision& so_far) const override {
        if (!so_far.asked.empty()) return Step::answer_with(so_far.asked.front().position, StopReason::routed);
        const bool strong = unit_interval(stable_hash(query.id, seed_)) < strong_share_;
        return Step::ask_tier(strong ? tiers().size() - 1 : 0);
    }

    bool keeps_answer_of(std::size_t) const override { return true; }

private:
    double strong_share_;
    std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<Policy> make_random_router(const PolicySpec& spec) {
    if (spec.tiers.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "policy 'random' needs at least two tiers");
    const double share = spec.param("strong_share", 0.5);
    if (!(share >= 0.0 && share <= 1.0)) {
        throw core::Error(core::ErrorCode::invalid_input, "policy 'random': strong_share must be between 0 and 1");
    }
    return std::make_unique<RandomRouter>(spec.tiers, share, static_cast<std::uint64_t>(spec.param("seed", 0)));
}

}  // namespace hiro::policy
