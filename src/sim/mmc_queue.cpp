#include "sim/mmc_queue.h"

#include <algorithm>
#include <cmath>

namespace hiro::sim {

double erlang_c(int c, double lambda, double mu) {
    const double a = lambda / mu, rho = a / c;
    if (rho >= 1.0) return 1.0;
    // Erlang B by its recursion B(k) = a B(k-1) / (k + a B(k-1)): no factorials
    // or powers to overflow for large c. Then C = B / (1 - rho (1 - B)).
    double b = 1.0;
    for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
    return b / (1.0 - rho * (1.0 - b));
}

double wait_exceeds(int c, double lambda, double mu, double t) {
    if (lambda >= c * mu) return 1.0;
    if (std::isinf(t)) return 0.0;
    if (t <= 0) return erlang_c(c, lambda, mu);
    return erlang_c(c, lambda, mu) * std::exp(-(c * mu - lambda) * t);
}

// Overflowing a share s leaves the edge the load lambda (1 - s), and the share
// that overflows is the one that would wait longer than t at that load:
//     s = P(W > t | lambda (1 - s)),  s >= max(0, 1 - c mu / lambda).
// The right side falls as s grows and is 1 at the lower bound when
// lambda >= c mu (the kept load is then exactly critical), so there is exactly
// one root in [max(0, 1 - c mu / lambda), 1]; bisection finds it. Below
// capacity with a loose deadline this is about P(W > t) itself; far above
// capacity it tends to 1 - c mu / lambda, the share that must leave for the
// rest to be stable at all.
double overflow_share(int c, double lambda, double mu, double t) {
    if (lambda <= 0) return 0.0;
    if (t < 0) return 1.0;
    double lo = std::max(0.0, 1.0 - c * mu / lambda), hi = 1.0;
    if (lo == 0.0 && wait_exceeds(c, lambda, mu, t) == 0.0) return 0.0;
    for (int i = 0; i < 100 && hi - lo > 1e-12; ++i) {
        const double s = (lo + hi) / 2;
        if (s - wait_exceeds(c, lambda * (1.0 - s), mu, t) < 0) lo = s; else hi = s;
    }
    return (lo + hi) / 2;
}

}  // namespace hiro::sim
