// The edge cluster with overflow to the cloud: the gateway's rule under load,
// and the M/M/c closed form it is compared with.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "sim/edge_cluster.h"
#include "sim/mmc_queue.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

sim::ClusterOptions three_endpoints(double deadline_ms) {
    sim::ClusterOptions o;
    o.endpoints = 3;
    o.slots = 1;
    o.service_ms = {1000};
    o.cloud_ms = {800};
    o.deadline_ms = deadline_ms;
    o.cloud_usd = 0.002;
    return o;
}

TEST(MmcQueue, ErlangCMatchesTheTextbook) {
    // c = 3, a = lambda / mu = 2: P_w = (8/6 * 3) / (1 + 2 + 2 + 8/6 * 3) = 4/9.
    EXPECT_NEAR(sim::erlang_c(3, 2.0, 1.0), 4.0 / 9.0, 1e-9);
    EXPECT_NEAR(sim::erlang_c(1, 0.5, 1.0), 0.5, 1e-12);  // M/M/1: P_w = rho
    EXPECT_EQ(sim::erlang_c(3, 3.0, 1.0), 1.0);
    EXPECT_NEAR(sim::wait_exceeds(3, 2.0, 1.0, 1.0), 4.0 / 9.0 * std::exp(-1.0), 1e-9);
    EXPECT_EQ(sim::wait_exceeds(3, 2.0, 1.0, std::numeric_limits<double>::infinity()), 0.0);
}

TEST(MmcQueue, OverflowShareIsTheTailBelowCapacityAndTheExcessAbove) {
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(sim::overflow_share(3, 2.0, 1.0, inf), 0.0);
    EXPECT_NEAR(sim::overflow_share(3, 6.0, 1.0, inf), 0.5, 1e-9);  // half must leave for 3 servers to keep up
    // Below capacity the share is under the tail at the full load (leaving lightens the load).
    const double s = sim::overflow_share(3, 2.0, 1.0, 1.0);
    EXPECT_GT(s, 0.0);
    EXPECT_LT(s, sim::wait_exceeds(3, 2.0, 1.0, 1.0));
    EXPECT_NEAR(s, sim::wait_exceeds(3, 2.0 * (1 - s), 1.0, 1.0), 1e-9);
    // Above capacity it is more than the excess alone, and rises with the load.
    EXPECT_GT(sim::overflow_share(3, 6.0, 1.0, 1.0), 0.5);
    EXPECT_GT(sim::overflow_share(3, 12.0, 1.0, 1.0), sim::overflow_share(3, 6.0, 1.0, 1.0));
    EXPECT_EQ(sim::overflow_share(3, 2.0, 1.0, -0.5), 1.0);  // the deadline is shorter than the service
}

TEST(EdgeCluster, BelowCapacityWithoutDeadlineEverythingStaysAtTheEdge) {
    const auto o = three_endpoints(0);
    const auto r = sim::simulate_cluster(o, 0.5 * sim::capacity_per_s(o));
    EXPECT_EQ(r.requests, 2000u);
    EXPECT_EQ(r.cloud_share, 0.0);
    EXPECT_EQ(r.usd_per_1k, 0.0);
    EXPECT_NEAR(r.p50_ms, 1000.0, 50.0);  // most requests find a free endpoint
    EXPECT_NEAR(r.load, 0.5, 1e-12);
    EXPECT_NEAR(r.edge_utilisation, 0.5, 0.05);
    EXPECT_GE(r.p95_ms, r.p50_ms);
}

TEST(EdgeCluster, AboveCapacityWithoutDeadlineTheQueueGrowsWithoutBound) {
    auto o = three_endpoints(0);
    const double rate = 2 * sim::capacity_per_s(o);
    o.requests = 1000;
    const auto short_run = sim::simulate_cluster(o, rate);
    o.requests = 4000;
    const auto long_run = sim::simulate_cluster(o, rate);
    EXPECT_EQ(long_run.cloud_share, 0.0);
    EXPECT_GT(long_run.p95_ms, 3 * short_run.p95_ms);
    EXPECT_GT(long_run.edge_wait_ms, 3 * short_run.edge_wait_ms);
    EXPECT_GT(long_run.edge_utilisation, 0.95);
}

TEST(EdgeCluster, ADeadlineBoundsLatencyAndOverflowRisesWithLoad) {
    const auto o = three_endpoints(2000);
    const double capacity = sim::capacity_per_s(o);
    double previous_share = -1;
    for (double multiple : {0.25, 0.5, 1.0, 2.0, 4.0}) {
        const auto r = sim::simulate_cluster(o, multiple * capacity);
        EXPECT_LE(r.p95_ms, std::max(2000.0, 800.0) + 1000.0) << multiple;
        EXPECT_GE(r.cloud_share, previous_share) << multiple;
        previous_share = r.cloud_share;
    }
    const auto heavy = sim::simulate_cluster(o, 4 * capacity);
    EXPECT_GT(heavy.cloud_share, 0.7);  // at least the 3/4 the edge cannot take
    EXPECT_LT(heavy.cloud_share, 0.85);
    EXPECT_NEAR(heavy.usd_per_1k, heavy.cloud_share * 1000 * 0.002, 1e-9);
    EXPECT_GT(heavy.mmc_cloud_share, 0.75);
    EXPECT_LT(sim::simulate_cluster(o, 0.25 * capacity).cloud_share, 0.01);  // queues are rare: next to nothing overflows
}

TEST(EdgeCluster, SlotsAndEmpiricalTimesToo) {
    auto o = three_endpoints(1500);
    o.endpoints = 2;
    o.slots = 4;
    o.service_ms = {400, 800, 1200};  // mean 800 ms: capacity 10 req/s
    o.cloud_ms = {500, 900};
    EXPECT_NEAR(sim::capacity_per_s(o), 10.0, 1e-9);
    const auto r = sim::simulate_cluster(o, 20.0);
    EXPECT_GT(r.cloud_share, 0.4);
    EXPECT_LT(r.cloud_share, 0.8);
    EXPECT_LE(r.p50_ms, 1500.0 + 1200.0);
}

TEST(EdgeCluster, TheSameSeedGivesTheSameResult) {
    auto o = three_endpoints(2000);
    o.service_ms = {300, 900, 1500, 2400};
    const auto a = sim::simulate_cluster(o, 3.0), b = sim::simulate_cluster(o, 3.0);
    EXPECT_EQ(a.p95_ms, b.p95_ms);
    EXPECT_EQ(a.mean_ms, b.mean_ms);
    EXPECT_EQ(a.cloud_share, b.cloud_share);
    EXPECT_EQ(a.edge_wait_ms, b.edge_wait_ms);
    EXPECT_EQ(a.events, b.events);
    o.seed = 2;
    EXPECT_NE(sim::simulate_cluster(o, 3.0).mean_ms, a.mean_ms);
}

TEST(EdgeCluster, OneEndpointIsAlwaysTheChoice) {
    auto o = three_endpoints(2500);
    o.endpoints = 1;
    const auto r = sim::simulate_cluster(o, 2.0);  // twice what one endpoint serves
    EXPECT_GT(r.cloud_share, 0.4);
    EXPECT_LE(r.max_ms, 2500.0);  // constant service: the prediction is exact or pessimistic
}

TEST(EdgeCluster, BadOptionsAreErrors) {
    auto o = three_endpoints(0);
    EXPECT_THROW(sim::simulate_cluster(o, 0.0), core::Error);
    o.service_ms = {1000, -1};
    EXPECT_THROW(sim::simulate_cluster(o, 1.0), core::Error);
    o = three_endpoints(0);
    o.endpoints = 0;
    EXPECT_THROW(sim::simulate_cluster(o, 1.0), core::Error);
}

TEST(EdgeCluster, ReadsTimesFromAFile) {
    TempDir dir;
    const std::string good = dir.file("good.txt");
    std::ofstream(good) << "# llama-server answer times\n1200\n  800.5  # a fast one\n\n1000\n";
    EXPECT_EQ(sim::read_ms_samples(good), (std::vector<double>{1200, 800.5, 1000}));

    auto message = [](const std::string& path) {
        try {
            sim::read_ms_samples(path);
        } catch (const core::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string text = dir.file("text.txt"), negative = dir.file("negative.txt"), empty = dir.file("empty.txt");
    std::ofstream(text) << "1000\n12 ms\n";
    std::ofstream(negative) << "1000\n\n-3\n";
    std::ofstream(empty) << "# nothing\n";
    EXPECT_THAT(message(text), HasSubstr(text + " line 2: '12 ms' is not a number"));
    EXPECT_THAT(message(negative), HasSubstr(negative + " line 3: -3 ms is not positive"));
    EXPECT_THAT(message(empty), HasSubstr("no times in it"));
    EXPECT_THAT(message(dir.file("missing.txt")), HasSubstr("cannot open"));
}

}  // namespace
}  // namespace hiro::test
