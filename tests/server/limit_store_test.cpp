// The limit rules (LimitStore) hold the same in this process and in Redis:
// each test runs against LocalLimitStore and against RedisLimitStore on a
// real redis-server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "redis_process.h"
#include "server/local_limit_store.h"
#include "server/redis_limit_store.h"

namespace hiro::server {
namespace {

using ::testing::HasSubstr;

class LimitStoreTest : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        if (GetParam()) {
            redis_ = std::make_unique<test::RedisProcess>();
            connections_ = std::make_shared<RedisConnections>(parse_redis_url(redis_->url(3)), std::chrono::milliseconds(500),
                                                              RedisLimitStore::handshake());
            store_ = std::make_unique<RedisLimitStore>(connections_);
        } else {
            store_ = std::make_unique<LocalLimitStore>();
        }
    }
    void TearDown() override {
        if (connections_) connections_->close();
    }

    template <class T>
    T run(backends::Task<T> task) {
        return backends::run_blocking(ioc_, std::move(task));
    }
    Reservation at(std::int64_t ms, const std::string& id, Demand worst, const KeyLimits& limits) {
        Reservation r;
        r.key = "team";
        r.id = id;
        r.reserved = worst;
        r.periods = periods_at(ms);
        r.tokens_metered = limits.tokens_per_minute > 0;
        r.shared = GetParam();
        return r;
    }
    std::optional<Refusal> reserve(const Reservation& r, const KeyLimits& l) { return run(store_->reserve(r, l)); }

    // 2030-12-02T00:00:00Z: in the future, as Redis expires usage from the period end on.
    static constexpr std::int64_t t0 = 1922400000000;
    boost::asio::io_context ioc_;
    std::unique_ptr<test::RedisProcess> redis_;
    std::shared_ptr<RedisConnections> connections_;
    std::unique_ptr<LimitStore> store_;
};

TEST_P(LimitStoreTest, RequestsPerMinuteIsASlidingWindow) {
    KeyLimits l;
    l.requests_per_minute = 3;
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(reserve(at(t0 + i * 1000, "r" + std::to_string(i), {}, l), l));
    const auto refused = reserve(at(t0 + 5000, "r3", {}, l), l);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->limit, "requests_per_minute");
    EXPECT_EQ(refused->used, 3);
    EXPECT_EQ(refused->retry_after_ms, 55000);  // when the first leaves the window
    EXPECT_TRUE(reserve(at(t0 + 59999, "r4", {}, l), l));
    EXPECT_FALSE(reserve(at(t0 + 60000, "r5", {}, l), l));  // the first has left
    EXPECT_TRUE(reserve(at(t0 + 60001, "r6", {}, l), l));
}

TEST_P(LimitStoreTest, TokensAreReservedThenSettled) {
    KeyLimits l;
    l.tokens_per_minute = 1000;
    const auto a = at(t0, "a", {600, 0}, l);
    const auto b = at(t0 + 1, "b", {600, 0}, l);
    EXPECT_FALSE(reserve(a, l));
    EXPECT_FALSE(reserve(b, l));  // 600 used: below the limit, so admitted, and 1200 reserved
    const auto refused = reserve(at(t0 + 2, "c", {600, 0}, l), l);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->limit, "tokens_per_minute");
    EXPECT_EQ(refused->used, 1200);
    EXPECT_EQ(refused->retry_after_ms, 59998);  // a leaves: 600 < 1000
    run(store_->settle(a, {100, 0}, t0 + 2));
    run(store_->settle(b, {200, 0}, t0 + 2));
    EXPECT_FALSE(reserve(at(t0 + 3, "d", {600, 0}, l), l));  // 300 used
    // A request that outlives the window counts its tokens from when it ends.
    const auto slow = at(t0 + 4, "slow", {50, 0}, l);
    EXPECT_FALSE(reserve(slow, l));
    EXPECT_FALSE(reserve(at(t0 + 70000, "e", {10, 0}, l), l));  // everything before has left
    run(store_->settle(slow, {995, 0}, t0 + 70000));
    const auto after = reserve(at(t0 + 70001, "f", {1, 0}, l), l);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->used, 1005);
}

TEST_P(LimitStoreTest, BudgetsHoldPerDayAndMonthWithReservationsInFlight) {
    KeyLimits l;
    l.budget_usd_per_day = 0.01;
    l.budget_usd_per_month = 0.0145;
    std::vector<Reservation> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(at(t0 + i, "b" + std::to_string(i), {10, 0.004}, l));
        EXPECT_FALSE(reserve(held.back(), l)) << i;
    }
    const auto refused = reserve(at(t0 + 1000, "b3", {10, 0.004}, l), l);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->limit, "budget_usd_per_day");
    EXPECT_NEAR(refused->used, 0.012, 1e-9);
    EXPECT_EQ(refused->retry_after_ms, 86400000 - 1000);  // midnight UTC
    for (const auto& r : held) run(store_->settle(r, {7, 0.001}, t0 + 1500));
    EXPECT_FALSE(reserve(at(t0 + 2000, "b4", {10, 0.004}, l), l));
    const auto usage = run(store_->usage("team", periods_at(t0 + 3000)));
    ASSERT_EQ(usage.size(), 2u);
    EXPECT_EQ(usage[0].period, "2030-12-02");
    EXPECT_EQ(usage[1].period, "2030-12");
    EXPECT_EQ(usage[0].requests, 4);
    EXPECT_EQ(usage[0].tokens, 21);
    EXPECT_NEAR(usage[0].cost_usd, 0.003, 1e-9);
    EXPECT_EQ(usage[0].in_flight, 1);
    EXPECT_EQ(usage[0].reserved_tokens, 10);
    EXPECT_NEAR(usage[0].reserved_usd, 0.004, 1e-9);
    // The next day has a fresh daily budget; the month still counts: 0.007 + 0.004 + 0.004 >= 0.0145.
    const std::int64_t tomorrow = t0 + 86400000;
    EXPECT_FALSE(reserve(at(tomorrow, "n1", {10, 0.004}, l), l));
    const auto monthly = reserve(at(tomorrow + 1, "n2", {10, 0.004}, l), l);
    EXPECT_FALSE(monthly) << "0.011 < 0.0145";
    const auto over = reserve(at(tomorrow + 2, "n3", {10, 0.004}, l), l);
    ASSERT_TRUE(over);
    EXPECT_EQ(over->limit, "budget_usd_per_month");
    EXPECT_EQ(periods_at(tomorrow).month_ends_ms - tomorrow - 2, over->retry_after_ms);
}

TEST_P(LimitStoreTest, KeysAreIndependent) {
    KeyLimits l;
    l.requests_per_minute = 1;
    auto r = at(t0, "x", {}, l);
    EXPECT_FALSE(reserve(r, l));
    EXPECT_TRUE(reserve(at(t0, "y", {}, l), l));
    r.key = "other";
    r.id = "z";
    EXPECT_FALSE(reserve(r, l));
}

INSTANTIATE_TEST_SUITE_P(Stores, LimitStoreTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Redis" : "Local"; });

TEST(Periods, AreUtcDaysAndMonths) {
    const Periods p = periods_at(1767225599999);  // 2025-12-31T23:59:59.999Z
    EXPECT_EQ(p.day, "2025-12-31");
    EXPECT_EQ(p.month, "2025-12");
    EXPECT_EQ(p.day_ends_ms, 1767225600000);
    EXPECT_EQ(p.month_ends_ms, 1767225600000);
    EXPECT_EQ(periods_at(1767225600000).month, "2026-01");
}

TEST(RedisConnection, SaysWhyRedisIsUnavailableAndComesBack) {
    boost::asio::io_context ioc;
    test::RedisProcess redis;
    RedisConnection c(ioc, parse_redis_url(redis.url()), std::chrono::milliseconds(200));
    auto call = [&](std::vector<std::string> args) { return backends::run_blocking(ioc, c.call(std::move(args))); };
    EXPECT_EQ(call({"PING"}), "PONG");
    EXPECT_EQ(call({"RPUSH", "l", "a", "b"}), 2);
    EXPECT_EQ(call({"LRANGE", "l", "0", "-1"}), core::Json({"a", "b"}));
    EXPECT_EQ(call({"GET", "missing"}), nullptr);
    EXPECT_THAT([&] { call({"NOSUCHCOMMAND"}); }, ::testing::ThrowsMessage<StoreUnavailable>(HasSubstr("unknown command")));
    redis.pause();  // accepts nothing, answers nothing
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THAT([&] { call({"PING"}); }, ::testing::ThrowsMessage<StoreUnavailable>(HasSubstr("no reply within 200 ms")));
    EXPECT_THAT([&] { call({"PING"}); }, ::testing::ThrowsMessage<StoreUnavailable>(HasSubstr("no reply within 200 ms")));  // at once, until the backoff ends
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    redis.resume();
    redis.kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    EXPECT_THAT([&] { call({"PING"}); }, ::testing::ThrowsMessage<StoreUnavailable>(HasSubstr("Redis at " + redis.url() + " is unavailable")));
    redis.start();
    bool back = false;
    for (int i = 0; i < 40 && !back; ++i) {
        try {
            back = call({"PING"}) == "PONG";
        } catch (const StoreUnavailable&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    EXPECT_TRUE(back) << "a restarted Redis is used again within 2 s";
}

TEST(RedisConnection, AuthenticatesWithThePasswordRedisRequires) {
    boost::asio::io_context ioc;
    test::RedisProcess redis({"--requirepass", "s3cret"});
    RedisAddress address = parse_redis_url(redis.url(2));
    RedisConnection anonymous(ioc, address, std::chrono::milliseconds(500));
    EXPECT_THAT([&] { backends::run_blocking(ioc, anonymous.call({"PING"})); },
                ::testing::ThrowsMessage<StoreUnavailable>(HasSubstr("NOAUTH Authentication required")));
    address.password = "s3cret";
    RedisConnection authenticated(ioc, address, std::chrono::milliseconds(500));
    EXPECT_EQ(backends::run_blocking(ioc, authenticated.call({"SET", "k", "v"})), "OK");
    EXPECT_EQ(redis.cli("-a s3cret --no-auth-warning -n 2 GET k"), "v\n") << "SELECT 2 came after AUTH";
}

TEST(RedisUrl, NamesWhatIsWrong) {
    const auto a = parse_redis_url("redis://10.0.0.5:6380/4");
    EXPECT_EQ(a.host, "10.0.0.5");
    EXPECT_EQ(a.port, 6380);
    EXPECT_EQ(a.db, 4);
    EXPECT_EQ(parse_redis_url("redis://cache").port, 6379);
    EXPECT_THAT([] { parse_redis_url("http://cache:6379"); }, ::testing::ThrowsMessage<core::Error>(HasSubstr("write redis://HOST[:PORT][/DB]")));
}

}  // namespace
}  // namespace hiro::server
