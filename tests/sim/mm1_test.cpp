// The queueing core against closed forms: M/M/1 mean waiting time
// Wq = rho / (mu - lambda), within 2%.
#include <gtest/gtest.h>

#include <random>

#include "sim/event_queue.h"
#include "sim/server_pool.h"

namespace hiro::test {
namespace {

double mean_wait(int workers, double lambda, double mu, std::size_t customers, bool lifo) {
    constexpr std::uint32_t arrival = 0, done = 1;
    std::mt19937_64 rng(42);
    std::exponential_distribution<double> gap(lambda), service(mu);
    sim::EventQueue events;
    sim::ServerPool pool(workers, 1, 1.0, lifo, done);
    std::size_t arrived = 0;
    events.push(gap(rng), arrival, 0);
    while (!events.empty()) {
        const sim::Event e = events.pop();
        if (e.kind == arrival) {
            pool.arrive(events, e.time, {static_cast<std::uint32_t>(arrived), e.time, service(rng)});
            if (++arrived < customers) events.push(e.time + gap(rng), arrival, 0);
        } else {
            pool.finish(events, e.time, e.id);
        }
    }
    EXPECT_EQ(pool.stats().jobs, customers);
    return pool.stats().wait_ms / static_cast<double>(customers);
}

TEST(MM1, MeanWaitingTimeMatchesTheClosedForm) {
    const double lambda = 0.5, mu = 1.0;  // rho = 0.5, Wq = 1.0
    EXPECT_NEAR(mean_wait(1, lambda, mu, 2'000'000, false), lambda / mu / (mu - lambda), 0.02);
}

TEST(MM1, HeavierLoadStillMatches) {
    const double lambda = 0.7, mu = 1.0;  // rho = 0.7, Wq = 2.333
    const double wq = lambda / mu / (mu - lambda);
    EXPECT_NEAR(mean_wait(1, lambda, mu, 4'000'000, false), wq, 0.02 * wq);
}

TEST(MM1, TwoWorkersMatchErlangC) {
    // M/M/2, lambda = 1.2, mu = 1: a = 1.2, rho = 0.6, P(wait) = a^2/(2!(1-rho)) / (1 + a + a^2/(2!(1-rho))).
    const double a = 1.2, rho = 0.6;
    const double tail = a * a / (2 * (1 - rho));
    const double p_wait = tail / (1 + a + tail);
    const double wq = p_wait / (2 * 1.0 - 1.2);
    EXPECT_NEAR(mean_wait(2, 1.2, 1.0, 2'000'000, false), wq, 0.02 * wq);
}

}  // namespace
}  // namespace hiro::test
