// The pieces of an endpoint pool that need no server: balancers, the
// prediction the overflow rule uses, and the parsers of llama-server's load.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "backends/endpoint_balancer.h"
#include "backends/endpoint_probe.h"
#include "core/error.h"
#include "core/service_estimate.h"

namespace hiro::backends {
namespace {

std::map<std::size_t, int> picks(const std::string& name, const std::vector<Candidate>& c, int n = 3000) {
    std::mt19937_64 rng(7);
    std::map<std::size_t, int> count;
    for (int i = 0; i < n; ++i) ++count[balancer(name)(c, static_cast<std::uint64_t>(i), rng)];
    return count;
}

TEST(Balancer, PowerOfTwoChoicesAvoidsTheBusiestAndFollowsWeights) {
    // Two idle endpoints and a busy one: the busy one only wins when drawn twice, which it never is.
    auto count = picks("least_outstanding", {{1, 0, {}}, {1, 0, {}}, {1, 5, {}}});
    EXPECT_EQ(count[2], 0);
    EXPECT_NEAR(count[0], 1500, 200);
    // Equal load: a weight of 3 gets about three times the share.
    count = picks("least_outstanding", {{3, 0, {}}, {1, 0, {}}});
    EXPECT_NEAR(static_cast<double>(count[0]) / count[1], 3.0, 0.6);
}

TEST(Balancer, LeastLoadTakesTheShortestPredictionAndRoundRobinTakesTurns) {
    auto count = picks("least_load", {{1, 0, 300.0}, {1, 4, 120.0}, {1, 0, 200.0}}, 50);
    EXPECT_EQ(count[1], 50);
    // An endpoint that has not answered yet is tried first, the least outstanding of them: every endpoint gets measured.
    count = picks("least_load", {{1, 0, {}}, {1, 9, 10.0}}, 200);
    EXPECT_EQ(count[0], 200);
    count = picks("least_load", {{1, 0, 10.0}, {1, 2, {}}, {1, 1, {}}}, 10);
    EXPECT_EQ(count[2], 10);
    count = picks("round_robin", {{1, 9, {}}, {1, 0, {}}, {1, 0, {}}}, 300);
    EXPECT_EQ(count[0], 100);
    EXPECT_EQ(count[2], 100);
    EXPECT_THROW(balancer("fastest"), core::Error);
    try {
        balancer("fastest");
    } catch (const core::Error& e) {
        EXPECT_THAT(e.what(), testing::HasSubstr("least_outstanding"));
    }
}

TEST(ServiceEstimate, PredictsTheQueueAheadAndFollowsChanges) {
    core::ServiceEstimate e;
    EXPECT_FALSE(e.known());
    e.observe(1000);
    EXPECT_DOUBLE_EQ(e.predict_ms(0, 1), 1000);      // a free slot: its service
    EXPECT_DOUBLE_EQ(e.predict_ms(1, 1), 2000);      // one ahead on one slot
    EXPECT_DOUBLE_EQ(e.predict_ms(5, 2), 3000);      // four must finish, two at a time
    EXPECT_DOUBLE_EQ(e.predict_ms(1, 1 << 30), 1000);  // no known bound: no queue
    for (int i = 0; i < 30; ++i) e.observe(200);
    EXPECT_NEAR(e.service_ms(), 200, 5);
    EXPECT_TRUE(core::overflows(2000.5, 2000));
    EXPECT_FALSE(core::overflows(2000, 2000));
    EXPECT_EQ(core::overflow_reason(2345, 1000), "predicted 2.3 s > budget 1.0 s");
}

TEST(EndpointProbe, ReadsLlamaServersMetricsAndSlots) {
    const auto load = parse_llama_metrics(
        "# HELP llamacpp:requests_processing Number of requests processing\n# TYPE llamacpp:requests_processing gauge\n"
        "llamacpp:requests_processing 2\n# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred 3\n");
    ASSERT_TRUE(load);
    EXPECT_EQ(load->busy, 5);
    EXPECT_FALSE(load->slots);
    EXPECT_FALSE(parse_llama_metrics("hiro_requests_total 3\n"));

    const auto slots = parse_llama_slots(R"([{"id":0,"is_processing":true},{"id":1,"is_processing":false},{"id":2,"is_processing":true}])");
    ASSERT_TRUE(slots);
    EXPECT_EQ(slots->busy, 2);
    EXPECT_EQ(slots->slots, 3);
    EXPECT_FALSE(parse_llama_slots(R"({"error": "slots endpoint disabled"})"));
}

}  // namespace
}  // namespace hiro::backends
