// Limits shared by three hiro replicas behind nginx through a real
// redis-server: what one key may use holds across replicas, and a Redis that
// dies, hangs or comes back is handled as `state.on_unavailable` says.
#include <gmock/gmock.h>

#include <csignal>
#include <fstream>
#include <future>
#include <regex>
#include <set>

#include "redis_process.h"
#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

class SharedLimitsTest : public GatewayTest {
protected:
    // Starts deploy/run-replicas (three replicas, nginx) with `state` and `keys`
    // in front of the suite's llama-server, priced so that spend adds up fast.
    void start_replicas(const std::string& state, const std::string& keys, const std::string& more_tiers = "") {
        const auto config = dir_.file("replicas.yaml");
        std::ofstream(config) << state << "api_keys:\n  - {name: admin, key: sk-admin, admin: true}\n" << keys << "tiers:\n"
                              << llama_tier("edge", ", prices: {input: 10, output: 100}") << more_tiers;
        listen_ = free_port();
        replicas_ = {free_port(), free_port(), free_port()};
        ::setenv("HIRO", HIRO_EXECUTABLE, 1);
        ::setenv("HIRO_NGINX", HIRO_NGINX, 1);
        std::vector<std::string> args{"/bin/bash", std::string(HIRO_SOURCE_DIR) + "/deploy/run-replicas", config, std::to_string(listen_)};
        for (int r : replicas_) args.push_back(std::to_string(r));
        deploy_ = std::make_unique<ChildProcess>(args);
        for (int r : replicas_) {
            ASSERT_TRUE(deploy_->wait_until_ok(base(r) + "/health")) << deploy_->log();
        }
        ASSERT_TRUE(deploy_->wait_until_ok(base(listen_) + "/health")) << deploy_->log();
        body_ = dir_.file("chat.json");
        std::ofstream(body_) << chat("edge", 4);
    }
    void TearDown() override {
        if (deploy_) {
            EXPECT_EQ(deploy_->stop(SIGTERM, std::chrono::seconds(20)), 0) << deploy_->log();
        }
    }

    Reply send(const std::string& key) {
        return request("-X POST -H 'Authorization: Bearer " + key + "' --data-binary @" + body_ + " " + base(listen_) + "/v1/chat/completions");
    }
    // Statuses of `n` requests sent at once.
    std::vector<int> send_at_once(const std::string& key, int n) {
        std::vector<std::future<int>> replies;
        for (int i = 0; i < n; ++i) replies.push_back(std::async(std::launch::async, [this, key] { return send(key).status; }));
        std::vector<int> statuses;
        for (auto& r : replies) statuses.push_back(r.get());
        return statuses;
    }
    // The key's usage today, as GET /v1/usage reports it, once every request
    // has settled (settling runs after the answer, off the request's path).
    nlohmann::json settled_usage_today(const std::string& key) {
        nlohmann::json day;
        EXPECT_TRUE(eventually([&] { return (day = usage_today(key))["in_flight"] == 0; }, std::chrono::seconds(5))) << day.dump();
        return day;
    }
    nlohmann::json usage_today(const std::string& key) {
        const auto usage = request("-H 'Authorization: Bearer sk-admin' " + base(listen_) + "/v1/usage").json();
        for (const auto& k : usage["keys"]) {
            if (k["key"] == key) return k["day"];
        }
        ADD_FAILURE() << "no usage for " << key << ": " << usage.dump();
        return {};
    }
    double metric_over_replicas(const std::string& sample) {
        double sum = 0;
        for (int r : replicas_) {
            const auto text = request(base(r) + "/metrics").body;
            const auto at = text.find("\n" + sample + " ");
            if (at != std::string::npos) sum += std::stod(text.substr(at + sample.size() + 2));
        }
        return sum;
    }
    // The most a request of this test can reserve: its body's bytes as prompt tokens, 4 completion tokens.
    double worst_usd() const { return (static_cast<double>(chat("edge", 4).size()) * 10 + 4 * 100) / 1e6; }
    std::int64_t worst_tokens() const { return static_cast<std::int64_t>(chat("edge", 4).size()) + 4; }

    RedisProcess redis_;
    int listen_ = 0;
    std::vector<int> replicas_;
    std::string body_;
    std::unique_ptr<ChildProcess> deploy_;
};

TEST_F(SharedLimitsTest, TenRequestsAMinuteAcrossThreeReplicas) {
    start_replicas("state: {redis: '" + redis_.url() + "'}\n",
                   "  - {name: one-by-one, key: sk-a, limits: {requests_per_minute: 10}}\n"
                   "  - {name: all-at-once, key: sk-b, limits: {requests_per_minute: 10}}\n");
    int answered = 0;
    Reply refused;
    for (int i = 0; i < 30; ++i) {
        const Reply r = send("sk-a");
        ASSERT_TRUE(r.status == 200 || r.status == 429) << r.status << r.body;
        if (r.status == 200) ++answered;
        if (r.status == 429) refused = r;
    }
    EXPECT_EQ(answered, 10);
    EXPECT_EQ(refused.json()["error"]["code"], "rate_limit_exceeded");
    EXPECT_THAT(refused.json()["error"]["message"].get<std::string>(),
                HasSubstr("API key 'one-by-one' reached its limit of 10 requests per minute (10 admitted in the last 60 s); retry in"));
    const int retry_after = std::stoi(refused.header("retry-after"));
    EXPECT_GT(retry_after, 0);
    EXPECT_LE(retry_after, 60);
    EXPECT_GT(metric_over_replicas("hiro_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"), 0);

    const auto statuses = send_at_once("sk-b", 30);
    const auto ok = std::count(statuses.begin(), statuses.end(), 200);
    EXPECT_GE(ok, 10);
    EXPECT_LE(ok, 13);
    EXPECT_EQ(ok + std::count(statuses.begin(), statuses.end(), 429), 30);
    EXPECT_EQ(settled_usage_today("one-by-one")["requests"], 10);
}

TEST_F(SharedLimitsTest, BudgetsAndTokensAreNeverOvershotByMoreThanTheReservationsInFlight) {
    start_replicas("state: {redis: '" + redis_.url() + "'}\n",
                   "  - {name: penny, key: sk-p, limits: {budget_usd_per_day: 0.01}}\n"
                   "  - {name: penny-at-once, key: sk-q, limits: {budget_usd_per_day: 0.01}}\n"
                   "  - {name: tokens, key: sk-t, limits: {tokens_per_minute: 400}}\n");
    // One after another: admitted while the day's spend is below $0.01.
    Reply last;
    for (int i = 0; i < 200 && (last = send("sk-p")).status == 200; ++i) {
    }
    ASSERT_EQ(last.status, 429) << last.body;
    EXPECT_EQ(last.json()["error"]["type"], "insufficient_quota");
    EXPECT_THAT(last.json()["error"]["message"].get<std::string>(), HasSubstr("API key 'penny' reached its budget of $0.01 per day"));
    EXPECT_THAT(last.json()["error"]["message"].get<std::string>(), HasSubstr("it resets at "));
    auto day = settled_usage_today("penny");
    EXPECT_GE(day["cost_usd"].get<double>(), 0.01);
    EXPECT_LT(day["cost_usd"].get<double>(), 0.01 + worst_usd());
    EXPECT_EQ(day["reserved_usd"].get<double>(), 0);

    // Forty at once: each reserves its worst case, so they stop before the budget, give or take one reservation.
    send_at_once("sk-q", 40);
    day = settled_usage_today("penny-at-once");
    EXPECT_LT(day["cost_usd"].get<double>(), 0.01 + worst_usd()) << day.dump();
    EXPECT_GT(day["requests"].get<int>(), 0);

    const auto statuses = send_at_once("sk-t", 30);
    EXPECT_GT(std::count(statuses.begin(), statuses.end(), 429), 0);
    day = settled_usage_today("tokens");
    EXPECT_LT(day["tokens"].get<std::int64_t>(), 400 + worst_tokens()) << day.dump();
    EXPECT_EQ(day["reserved_tokens"], 0);
}

TEST_F(SharedLimitsTest, OpenAnswersOnPerProcessLimitsWhileRedisIsDownAndSharesAgainOnceBack) {
    start_replicas("state: {redis: '" + redis_.url() + "', on_unavailable: open, timeout_ms: 100}\n",
                   "  - {name: busy, key: sk-busy, limits: {requests_per_minute: 25}}\n"
                   "  - {name: after, key: sk-after, limits: {requests_per_minute: 5}}\n");
    std::atomic<bool> stop{false};
    std::vector<std::future<std::vector<int>>> load;
    for (int t = 0; t < 3; ++t) {
        load.push_back(std::async(std::launch::async, [&] {
            std::vector<int> statuses;
            while (!stop) statuses.push_back(send("sk-busy").status);
            return statuses;
        }));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    redis_.kill();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    stop = true;
    int answered = 0, total = 0;
    for (auto& f : load) {
        for (int s : f.get()) {
            EXPECT_TRUE(s == 200 || s == 429) << s;
            answered += s == 200;
            ++total;
        }
    }
    EXPECT_GT(answered, 0);
    EXPECT_GT(metric_over_replicas("hiro_limit_store_fallbacks_total"), 0);
    EXPECT_EQ(metric_over_replicas("hiro_limit_store_up"), 0) << "every replica saw Redis go";

    // A hung Redis delays a request by at most timeout_ms, then the replica goes on alone.
    redis_.start();
    redis_.pause();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(send("sk-busy").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    redis_.resume();

    std::this_thread::sleep_for(std::chrono::seconds(1));
    int after = 0;
    for (int i = 0; i < 15; ++i) after += send("sk-after").status == 200;
    EXPECT_EQ(after, 5) << "shared again: five across the three replicas, not five each";
}

TEST_F(SharedLimitsTest, ClosedRefusesWhatItCannotCount) {
    start_replicas("state: {redis: '" + redis_.url() + "', on_unavailable: closed, timeout_ms: 100}\n",
                   "  - {name: strict, key: sk-s, limits: {requests_per_minute: 100}}\n");
    EXPECT_EQ(send("sk-s").status, 200);
    redis_.kill();
    const Reply r = send("sk-s");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.json()["error"]["code"], "limit_store_unavailable");
    EXPECT_THAT(r.json()["error"]["message"].get<std::string>(), HasSubstr("Redis at " + redis_.url() + " is unavailable"));
    EXPECT_THAT(r.json()["error"]["message"].get<std::string>(), HasSubstr("state.on_unavailable: closed"));
    EXPECT_EQ(r.header("retry-after"), "1");
    redis_.start();
    EXPECT_TRUE(eventually([&] { return send("sk-s").status == 200; }, std::chrono::seconds(2)));
}

TEST_F(SharedLimitsTest, UsageTakesAnAdminKey) {
    start_replicas("state: {redis: '" + redis_.url() + "'}\n", "  - {name: user, key: sk-u}\n");
    EXPECT_EQ(send("sk-u").status, 200);
    const Reply denied = request("-H 'Authorization: Bearer sk-u' " + base(listen_) + "/v1/usage");
    EXPECT_EQ(denied.status, 403);
    EXPECT_THAT(denied.body, HasSubstr("admin: true"));
    const auto usage = request("-H 'Authorization: Bearer sk-admin' " + base(listen_) + "/v1/usage").json();
    EXPECT_EQ(usage["store"], redis_.url());
    const auto day = settled_usage_today("user");
    EXPECT_EQ(day["requests"], 1);
    EXPECT_GT(day["tokens"].get<int>(), 4);
    EXPECT_GT(day["cost_usd"].get<double>(), 0);
    // hiro usage reads the same numbers straight from Redis.
    const auto cli = run_command(hiro("usage --config " + dir_.file("replicas.yaml")));
    EXPECT_EQ(cli.exit_code, 0) << cli.out;
    EXPECT_THAT(cli.out, HasSubstr("user"));
}

TEST_F(SharedLimitsTest, ACircuitOpenedByOneReplicaIsSkippedByAll) {
    const int failing = start_fake({"status", "500"});
    start_replicas("state: {redis: '" + redis_.url() + "', share_breakers: true}\n", "",
                   tier_at("flaky", failing, ", retries: 0, circuit_breaker: {failures: 2, cooldown_ms: 20000}"));
    auto circuit_on = [&](int replica) { return request(base(replica) + "/ready").json()["tiers"]["flaky"]["circuit"]; };
    EXPECT_EQ(circuit_on(replicas_[1]), "closed");
    const auto body = dir_.file("flaky.json");
    std::ofstream(body) << chat("flaky", 4);
    for (int i = 0; i < 2; ++i) {
        const Reply r = request("-X POST -H 'Authorization: Bearer sk-admin' --data-binary @" + body + " " + base(replicas_[0]) + "/v1/chat/completions");
        EXPECT_EQ(r.status, 502) << r.body;
    }
    EXPECT_EQ(circuit_on(replicas_[0]), "open");
    EXPECT_TRUE(eventually([&] { return circuit_on(replicas_[1]) == "open" && circuit_on(replicas_[2]) == "open"; }, std::chrono::seconds(3)))
        << "the replicas that never saw it fail skip it too";
    const Reply skipped = request("-X POST -H 'Authorization: Bearer sk-admin' --data-binary @" + body + " " + base(replicas_[1]) + "/v1/chat/completions");
    EXPECT_THAT(skipped.body, HasSubstr("its circuit is open"));
}

// Without `state`, one hiro keeps the same limits in its own memory.
TEST_F(GatewayTest, LimitsWithoutRedisHoldInTheProcess) {
    start_hiro("api_keys:\n  - {name: ops, key: sk-ops, admin: true}\n  - {name: three, key: sk-3, limits: {requests_per_minute: 3}}\n"
               "limits: {per_key: {budget_usd_per_month: 100}}\ntiers:\n" + llama_tier("edge"));
    int answered = 0;
    for (int i = 0; i < 5; ++i) answered += post("/v1/chat/completions", chat("edge", 2), "-H 'Authorization: Bearer sk-3'").status == 200;
    EXPECT_EQ(answered, 3);
    const auto usage = request("-H 'Authorization: Bearer sk-ops' " + url("/v1/usage")).json();
    EXPECT_EQ(usage["store"], "this process");
    ASSERT_EQ(usage["keys"].size(), 2u);
    EXPECT_EQ(usage["keys"][1]["key"], "three");
    EXPECT_EQ(usage["keys"][1]["day"]["requests"], 3);
    EXPECT_EQ(usage["keys"][1]["limits"], nlohmann::json({{"requests_per_minute", 3}, {"budget_usd_per_month", 100}}));
    EXPECT_GT(metric("hiro_limit_refusals_total{key=\"three\",limit=\"requests_per_minute\"}"), 1);
    const auto cli = run_command(hiro("usage --config " + config_path_));
    EXPECT_NE(cli.exit_code, 0);
    EXPECT_THAT(cli.out, HasSubstr("has no state.redis: each replica counts for itself"));
}

// The Grafana dashboard plots only metrics hiro serves.
TEST_F(GatewayTest, TheGrafanaDashboardUsesMetricsHiroServes) {
    start_hiro("tiers:\n" + llama_tier("edge"));
    const std::string metrics = get("/metrics").body;
    std::ifstream in(std::string(HIRO_SOURCE_DIR) + "/deploy/grafana/hiro-dashboard.json");
    const auto dashboard = nlohmann::json::parse(in);
    std::set<std::string> used;
    const std::regex metric_name(R"(hiro_[a-z_]+)");
    for (const auto& panel : dashboard["panels"]) {
        for (const auto& target : panel["targets"]) {
            const std::string expr = target["expr"];
            for (std::sregex_iterator m(expr.begin(), expr.end(), metric_name), end; m != end; ++m) used.insert(m->str());
        }
    }
    EXPECT_GT(used.size(), 10u);
    for (std::string name : used) {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            if (name.size() > std::strlen(suffix) && name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
        }
        EXPECT_THAT(metrics, HasSubstr("# TYPE " + name + " ")) << name;
    }
}

}  // namespace
}  // namespace hiro::test
