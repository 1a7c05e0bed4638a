#include "server/redis_limit_store.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include "server/limit_meters_lua.h"

namespace hiro::server {
namespace {

using core::Json;

std::string sha1_hex(std::string_view text) {
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
    std::string hex;
    for (unsigned char c : d) hex += fmt::format("{:02x}", c);
    return hex;
}

// The Redis keys of one API key's meters, in the script's KEYS order. The
// braces are a hash tag: in a Redis Cluster they all live in one slot.
std::vector<std::string> meter_keys(const std::string& key, const Periods& p) {
    const std::string prefix = "hiro:{" + key + "}:";
    return {prefix + "requests", prefix + "tokens", prefix + "tokens:amounts", prefix + "tokens:sum", prefix + "day:" + p.day,
            prefix + "month:" + p.month};
}

std::string money(double usd) { return fmt::format("{:.12f}", usd); }

double number(const Json& j) {
    if (j.is_number()) return j.get<double>();
    return j.is_string() ? std::strtod(j.get<std::string>().c_str(), nullptr) : 0.0;
}

}  // namespace

RedisLimitStore::RedisLimitStore(std::shared_ptr<RedisConnections> redis) : redis_(std::move(redis)), script_sha_(sha1_hex(limit_meters_lua)) {}

// Every connection loads the script first, so EVALSHA finds it even on a Redis that restarted empty.
std::vector<std::vector<std::string>> RedisLimitStore::handshake() { return {{"SCRIPT", "LOAD", std::string(limit_meters_lua)}}; }

Task<Json> RedisLimitStore::run_script(std::vector<std::string> keys_and_args) {
    RedisConnection& redis = *co_await redis_->here();
    std::vector<std::string> call{"EVALSHA", script_sha_, "6"};
    call.insert(call.end(), keys_and_args.begin(), keys_and_args.end());
    std::optional<StoreUnavailable> missing;
    try {
        co_return co_await redis.call(call);
    } catch (const StoreUnavailable& e) {
        if (std::string_view(e.what()).find("NOSCRIPT") == std::string_view::npos) throw;
        missing.emplace(e);  // someone flushed the script cache: send the script itself
    }
    call[0] = "EVAL";
    call[1] = std::string(limit_meters_lua);
    co_return co_await redis.call(std::move(call));
}

Task<std::optional<Refusal>> RedisLimitStore::reserve(const Reservation& r, const KeyLimits& limits) {
    const Periods& p = r.periods;
    std::vector<std::string> args = meter_keys(r.key, p);
    for (std::string a : {std::string("reserve"), std::to_string(p.now_ms), r.id, std::string("60000"), fmt::format("{}", limits.requests_per_minute),
                          fmt::format("{}", limits.tokens_per_minute), money(limits.budget_usd_per_day), money(limits.budget_usd_per_month),
                          std::to_string(r.reserved.tokens), money(r.reserved.usd), std::to_string(p.day_ends_ms), std::to_string(p.month_ends_ms)}) {
        args.push_back(std::move(a));
    }
    const Json reply = co_await run_script(std::move(args));
    if (!reply.is_array() || reply.empty()) throw StoreUnavailable("Redis at " + address().url + " answered the limit script with " + reply.dump());
    if (reply[0] == 1) co_return std::nullopt;
    co_return Refusal{reply.at(1).get<std::string>(), number(reply.at(3)), reply.at(2).get<std::int64_t>()};
}

Task<void> RedisLimitStore::settle(const Reservation& r, const Demand& used, std::int64_t now_ms) {
    std::vector<std::string> args = meter_keys(r.key, r.periods);
    for (std::string a : {std::string("settle"), std::to_string(now_ms), r.id, std::string("60000"), std::string(r.tokens_metered ? "1" : "0"),
                          std::to_string(r.reserved.tokens), money(r.reserved.usd), std::to_string(used.tokens), money(used.usd)}) {
        args.push_back(std::move(a));
    }
    co_await run_script(std::move(args));
}

Task<std::vector<PeriodUsage>> RedisLimitStore::usage(const std::string& key, const Periods& periods) {
    RedisConnection& redis = *co_await redis_->here();
    const auto keys = meter_keys(key, periods);
    std::vector<PeriodUsage> result;
    for (const auto& [hash, name] : {std::pair{keys[4], periods.day}, std::pair{keys[5], periods.month}}) {
        std::vector<std::string> command{"HGETALL", hash};
        const Json fields = co_await redis.call(std::move(command));
        PeriodUsage u;
        u.period = name;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            const std::string f = fields[i].get<std::string>();
            const double v = number(fields[i + 1]);
            if (f == "requests") u.requests = static_cast<std::int64_t>(v);
            if (f == "tokens") u.tokens = static_cast<std::int64_t>(v);
            if (f == "in_flight") u.in_flight = static_cast<std::int64_t>(v);
            if (f == "reserved_tokens") u.reserved_tokens = static_cast<std::int64_t>(v);
            if (f == "cost_usd") u.cost_usd = v;
            if (f == "reserved_usd") u.reserved_usd = v;
        }
        result.push_back(u);
    }
    co_return result;
}

}  // namespace hiro::server
