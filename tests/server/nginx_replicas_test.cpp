// deploy/run-replicas as a user runs it: two hiro replicas behind a real nginx.
#include <gmock/gmock.h>

#include <csignal>
#include <thread>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

TEST_F(GatewayTest, TwoReplicasBehindNginxShareTheLoadAndSurviveOneStopping) {
    const auto config = dir_.file("replica.yaml");
    std::ofstream(config) << "tiers:\n" << llama_tier("edge") << llama_tier("cloud")
                          << "policies:\n  - {name: hiro-cascade, kind: cascade, tiers: [edge, cloud], thresholds: [-1]}\n";
    const int listen = free_port(), r1 = free_port(), r2 = free_port();
    ::setenv("HIRO", HIRO_EXECUTABLE, 1);
    ::setenv("HIRO_NGINX", HIRO_NGINX, 1);  // not NGINX: nginx reads that one itself
    ChildProcess deploy({"/bin/bash", std::string(HIRO_SOURCE_DIR) + "/deploy/run-replicas", config, std::to_string(listen),
                         std::to_string(r1), std::to_string(r2)});
    const std::string nginx = "http://127.0.0.1:" + std::to_string(listen);
    auto requests_answered_by = [](int replica_port) {
        const auto metrics = request("http://127.0.0.1:" + std::to_string(replica_port) + "/metrics").body;
        const std::string key = "hiro_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} ";
        const auto at = metrics.find(key);
        return at == std::string::npos ? 0 : std::stoi(metrics.substr(at + key.size()));
    };
    ASSERT_TRUE(deploy.wait_until_ok(nginx + "/health")) << deploy.log();
    ASSERT_TRUE(deploy.wait_until_ok("http://127.0.0.1:" + std::to_string(r1) + "/health")) << deploy.log();
    ASSERT_TRUE(deploy.wait_until_ok("http://127.0.0.1:" + std::to_string(r2) + "/health")) << deploy.log();

    const auto body = dir_.file("chat.json");
    std::ofstream(body) << chat("hiro-cascade", 4);
    auto send = [&] { return request("-X POST --data-binary @" + body + " " + nginx + "/v1/chat/completions"); };
    // nginx may have seen a replica before it listened and skip it for its
    // fail_timeout (2 s): keep sending until both have answered.
    int sent = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (sent < 20 || requests_answered_by(r1) == 0 || requests_answered_by(r2) == 0) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "one replica never answered: " << deploy.log();
        const Reply r = send();
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.json()["hiro"]["route"], "hiro-cascade");
        ++sent;
    }
    EXPECT_EQ(requests_answered_by(r1) + requests_answered_by(r2), sent);

    // One replica stops (SIGTERM drains it); nginx sends everything to the other.
    run_command("pkill -TERM -f -- '--listen 127.0.0.1:" + std::to_string(r1) + "'");
    for (int i = 0; i < 200 && request("http://127.0.0.1:" + std::to_string(r1) + "/health").status == 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const int before = requests_answered_by(r2);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(send().status, 200);
    EXPECT_EQ(requests_answered_by(r2), before + 20);

    EXPECT_EQ(deploy.stop(SIGTERM, std::chrono::seconds(20)), 0) << deploy.log();
}

}  // namespace
}  // namespace hiro::test
