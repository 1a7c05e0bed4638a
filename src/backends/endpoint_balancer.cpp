#include "backends/endpoint_balancer.h"

#include <map>

#include "core/error.h"

namespace hiro::backends {
namespace {

// A random position, each with a chance proportional to its weight.
std::size_t weighted_pick(const std::vector<Candidate>& c, std::mt19937_64& rng) {
    double total = 0;
    for (const auto& x : c) total += x.weight;
    double r = std::uniform_real_distribution<double>(0.0, total)(rng);
    for (std::size_t i = 0; i < c.size(); ++i) {
        if (r < c[i].weight) return i;
        r -= c[i].weight;
    }
    return c.size() - 1;
}

// Power of two choices (Mitzenmacher): two endpoints drawn by weight, the one
// with fewer outstanding requests per unit of weight wins. Nearly as good as
// asking every endpoint, and it does not herd every request onto the one that
// looked idlest a moment ago.
std::size_t least_outstanding(const std::vector<Candidate>& c, std::uint64_t, std::mt19937_64& rng) {
    if (c.size() == 1) return 0;
    const std::size_t a = weighted_pick(c, rng);
    std::size_t b = weighted_pick(c, rng);
    for (int redraw = 0; b == a && redraw < 8; ++redraw) b = weighted_pick(c, rng);
    if (b == a) b = (a + 1) % c.size();
    return c[b].outstanding / c[b].weight < c[a].outstanding / c[a].weight ? b : a;
}

// The endpoint with the shortest predicted latency (its queue and service
// time, from its own polled load where that is larger than hiro's view).
// An endpoint that has not answered yet has no prediction: it is tried
// first (the least outstanding of them), so every endpoint gets measured.
std::size_t least_load(const std::vector<Candidate>& c, std::uint64_t, std::mt19937_64&) {
    std::optional<std::size_t> unmeasured;
    std::size_t best = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        if (!c[i].predicted_ms) {
            if (!unmeasured || c[i].outstanding / c[i].weight < c[*unmeasured].outstanding / c[*unmeasured].weight) unmeasured = i;
        } else if (!c[best].predicted_ms || *c[i].predicted_ms / c[i].weight < *c[best].predicted_ms / c[best].weight) {
            best = i;
        }
    }
    return unmeasured.value_or(best);
}

// In turn, whatever their load: the baseline others are measured against.
std::size_t round_robin(const std::vector<Candidate>& c, std::uint64_t turn, std::mt19937_64&) { return turn % c.size(); }

const std::map<std::string, Balancer>& registry() {
    static const std::map<std::string, Balancer> balancers = {
        {"least_outstanding", least_outstanding},
        {"least_load", least_load},
        {"round_robin", round_robin},
    };
    return balancers;
}

}  // namespace

std::string balancer_names() {
    std::string names;
    for (const auto& [name, _] : registry()) names += (names.empty() ? "" : ", ") + name;
    return names;
}

const Balancer& balancer(const std::string& name) {
    const auto it = registry().find(name);
    if (it == registry().end()) {
        throw core::Error(core::ErrorCode::invalid_input, "unknown balance '" + name + "' (known: " + balancer_names() + ")");
    }
    return it->second;
}

}  // namespace hiro::backends
