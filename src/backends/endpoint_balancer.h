#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace hiro::backends {

// An endpoint a request may go to, as a balancer sees it.
struct Candidate {
    double weight = 1.0;       // its configured weight, scaled down during slow start
    double outstanding = 0.0;  // requests it holds or waits to be sent (its own polled load, when larger)
    std::optional<double> predicted_ms;  // queue + service for a request arriving now, once it has answered
};

// Picks the position in `candidates` (never empty) of the endpoint the next
// request goes to. `turn` counts the pool's requests.
using Balancer = std::function<std::size_t(const std::vector<Candidate>& candidates, std::uint64_t turn, std::mt19937_64& rng)>;

// The balancer registered under `name`; throws an invalid_input core::Error
// listing the known names. A new balancer is one function and one line in
// the registry (endpoint_balancer.cpp).
const Balancer& balancer(const std::string& name);
std::string balancer_names();

}  // namespace hiro::backends
