#include "server/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/circuit_breaker.h"

namespace hiro::server {
namespace {

using ::testing::HasSubstr;

TEST(Metrics, RendersPrometheusText) {
    Metrics m;
    m.counter("hiro_requests_total", "requests", {"endpoint", "status"});
    m.gauge("hiro_inflight_requests", "in flight");
    m.histogram("hiro_latency_seconds", "latency", {"tier"}, {0.1, 1});
    m.add("hiro_requests_total", {"/v1/chat/completions", "200"});
    m.add("hiro_requests_total", {"/v1/chat/completions", "200"});
    m.set("hiro_inflight_requests", 3);
    m.observe("hiro_latency_seconds", {"edge"}, 0.05);
    m.observe("hiro_latency_seconds", {"edge"}, 0.5);
    m.observe("hiro_latency_seconds", {"edge"}, 5);
    const std::string text = m.render();
    EXPECT_THAT(text, HasSubstr("# TYPE hiro_requests_total counter\n"));
    EXPECT_THAT(text, HasSubstr("hiro_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("hiro_inflight_requests 3\n"));
    EXPECT_THAT(text, HasSubstr("hiro_latency_seconds_bucket{tier=\"edge\",le=\"0.1\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("hiro_latency_seconds_bucket{tier=\"edge\",le=\"1\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("hiro_latency_seconds_bucket{tier=\"edge\",le=\"+Inf\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("hiro_latency_seconds_count{tier=\"edge\"} 3\n"));
}

TEST(CircuitBreaker, OpensAfterRepeatedFailuresAndTriesAgainAfterTheCooldown) {
    CircuitBreaker b(2, std::chrono::milliseconds(1000));
    const auto t0 = CircuitBreaker::Clock::now();
    EXPECT_TRUE(b.allow(t0));
    b.record_failure(t0);
    EXPECT_TRUE(b.allow(t0));
    b.record_failure(t0);
    EXPECT_FALSE(b.allow(t0 + std::chrono::milliseconds(500)));
    EXPECT_TRUE(b.allow(t0 + std::chrono::milliseconds(1500)));   // one trial
    EXPECT_FALSE(b.allow(t0 + std::chrono::milliseconds(1500)));  // only one
    b.record_success();
    EXPECT_TRUE(b.allow(t0 + std::chrono::milliseconds(1600)));
}

}  // namespace
}  // namespace hiro::server
