// hiro holding thousands of requests in flight: real processes, real sockets,
// the dripping fake upstream and hiro_loadgen.
#include <gmock/gmock.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

using nlohmann::json;

// This process holds a socket per client: take every descriptor allowed.
void raise_descriptor_limit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
}

TEST_F(GatewayTest, TwoThousandConcurrentStreamsAllComplete) {
    const int drip = start_fake({"drip", "10", "50"});
    start_hiro("limits: {max_inflight: 5000}\ntiers:\n" + tier_at("drip", drip));
    const auto body = dir_.file("stream.json");
    std::ofstream(body) << chat("drip", 10, true);
    const auto results = dir_.file("results.jsonl");
    const auto r = run_command(std::string(HIRO_LOADGEN) + " --stream --concurrency 2000 --requests 2000 --url " +
                               url("/v1/chat/completions") + " --body " + body + " --json " + results);
    ASSERT_EQ(r.exit_code, 0) << r.out << hiro_->log();
    std::ifstream in(results);
    std::string line;
    std::getline(in, line);
    const json j = json::parse(line);
    EXPECT_EQ(j["statuses"]["200"], 2000) << line;
    EXPECT_EQ(j["transport_errors"], 0) << line;
    EXPECT_EQ(j["unfinished_streams"], 0) << line;
    EXPECT_EQ(metric("hiro_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"), 2000);
    EXPECT_EQ(metric("hiro_inflight_requests"), 0);
}

TEST_F(GatewayTest, AThousandClientsThatGoAwayAreAllCancelled) {
    raise_descriptor_limit();
    const int drip = start_fake({"drip", "1000", "100"});  // 100-second answers
    start_hiro("limits: {max_inflight: 5000}\ntiers:\n" + tier_at("slow", drip));
    const std::string http_request = [&] {
        const std::string body = chat("slow", 1000, true);
        return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    std::vector<int> clients;
    for (int i = 0; i < 1000; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(hiro_port_));
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        ASSERT_EQ(::send(fd, http_request.data(), http_request.size(), 0), static_cast<ssize_t>(http_request.size()));
        clients.push_back(fd);
    }
    const auto upstream_connections = [&] { return request(base(drip) + "/connections").json().value("open", -1); };
    ASSERT_TRUE(eventually([&] { return metric("hiro_inflight_requests") == 1000; })) << metric("hiro_inflight_requests");
    ASSERT_TRUE(eventually([&] { return upstream_connections() == 1000; })) << upstream_connections();

    for (int fd : clients) ::close(fd);
    EXPECT_TRUE(eventually([&] { return metric("hiro_inflight_requests") == 0; })) << metric("hiro_inflight_requests");
    EXPECT_TRUE(eventually([&] { return metric("hiro_client_disconnects_total") == 1000; })) << metric("hiro_client_disconnects_total");
    // Each cancelled stream's upstream connection was closed, not kept half-read.
    EXPECT_TRUE(eventually([&] { return upstream_connections() == 0; })) << upstream_connections();
}

TEST_F(GatewayTest, RetryBudgetWaitsForATierThatIsBrieflyGone) {
    const int port = free_port();  // nothing listens there yet
    start_hiro("tiers:\n" + tier_at("patient", port, ", retry_budget_ms: 20000") + tier_at("impatient", port));
    const Reply refused = post("/v1/chat/completions", chat("impatient", 4));
    EXPECT_EQ(refused.status, 502) << refused.body;
    EXPECT_EQ(refused.json()["hiro"]["tiers"][0]["failure"], "refused");

    // The upstream comes up a second after the request: the request waits for it.
    std::thread late([&] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        start_fake_on(port, {"drip", "4", "0"});
    });
    const Reply waited = post("/v1/chat/completions", chat("patient", 4));
    late.join();
    ASSERT_EQ(waited.status, 200) << waited.body;
    EXPECT_EQ(waited.json()["hiro"]["answered_by"], "patient");
    EXPECT_GE(metric("hiro_retries_total{tier=\"patient\",how=\"waited\"}"), 1);
}

}  // namespace
}  // namespace hiro::test
