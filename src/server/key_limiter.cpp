#include "server/key_limiter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <atomic>
#include <cmath>
#include <random>

namespace hiro::server {
namespace {

using core::Json;

std::string describe_wait(std::int64_t ms) {
    const std::int64_t s = (ms + 999) / 1000;
    if (s < 120) return fmt::format("{} s", s);
    if (s < 7200) return fmt::format("{} min", (s + 59) / 60);
    return fmt::format("{} h {} min", s / 3600, (s % 3600 + 59) / 60);
}

std::string utc(std::int64_t unix_ms) {
    const std::chrono::sys_seconds t{std::chrono::seconds(unix_ms / 1000)};
    const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(t)};
    const auto hms = std::chrono::hh_mm_ss(t - std::chrono::floor<std::chrono::days>(t));
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", int(d.year()), unsigned(d.month()), unsigned(d.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count());
}

// The OpenAI-style refusal: which limit, how much of it is used, when it frees up.
KeyLimiter::Verdict refusal(const std::string& key, const KeyLimits& l, const Refusal& r, const Periods& p) {
    KeyLimiter::Verdict v;
    v.status = 429;
    v.retry_after_s = std::max<std::int64_t>(1, (r.retry_after_ms + 999) / 1000);
    const std::string who = key.empty() ? "this gateway's clients" : "API key '" + key + "'";
    if (r.limit == "requests_per_minute" || r.limit == "tokens_per_minute") {
        const bool requests = r.limit == "requests_per_minute";
        v.type = requests ? "requests" : "tokens";
        v.code = "rate_limit_exceeded";
        v.message = fmt::format("{} reached its limit of {} {} per minute ({} {} in the last 60 s); retry in {}", who,
                                requests ? l.requests_per_minute : l.tokens_per_minute, v.type, r.used,
                                requests ? "admitted" : "used or reserved", describe_wait(r.retry_after_ms));
    } else {
        const bool daily = r.limit == "budget_usd_per_day";
        v.type = v.code = "insufficient_quota";
        v.message = fmt::format("{} reached its budget of ${} per {} (${:.6f} spent or reserved {}); it resets at {}, in {}", who,
                                daily ? l.budget_usd_per_day : l.budget_usd_per_month, daily ? "day" : "month", r.used,
                                daily ? "today (UTC)" : "this month (UTC)", utc(daily ? p.day_ends_ms : p.month_ends_ms),
                                describe_wait(r.retry_after_ms));
    }
    return v;
}

Json limits_json(const KeyLimits& l) {
    Json j = Json::object();
    if (l.requests_per_minute > 0) j["requests_per_minute"] = l.requests_per_minute;
    if (l.tokens_per_minute > 0) j["tokens_per_minute"] = l.tokens_per_minute;
    if (l.budget_usd_per_day > 0) j["budget_usd_per_day"] = l.budget_usd_per_day;
    if (l.budget_usd_per_month > 0) j["budget_usd_per_month"] = l.budget_usd_per_month;
    return j;
}

Json period_json(const PeriodUsage& u) {
    // Sums of float increments: round what a person reads to a millionth of a cent.
    auto usd = [](double v) { return std::round(v * 1e8) / 1e8; };
    return {{"period", u.period}, {"requests", u.requests}, {"tokens", u.tokens}, {"cost_usd", usd(u.cost_usd)},
            {"in_flight", u.in_flight}, {"reserved_tokens", u.reserved_tokens}, {"reserved_usd", usd(u.reserved_usd)}};
}

}  // namespace

KeyLimiter::KeyLimiter(std::map<std::string, KeyLimits> limits, const SharedState& state, Metrics& metrics)
    : limits_(std::move(limits)), state_(state), metrics_(metrics) {
    if (!state_.redis_url.empty()) {
        RedisAddress address = parse_redis_url(state_.redis_url);
        address.password = state_.redis_password;
        redis_ = std::make_shared<RedisConnections>(std::move(address), state_.timeout, RedisLimitStore::handshake());
        shared_ = std::make_unique<RedisLimitStore>(redis_);
    }
    std::random_device random;
    replica_ = fmt::format("{:08x}{:08x}", random(), random());
    metrics_.counter("hiro_limit_refusals_total", "requests refused by a limit of their API key", {"key", "limit"});
    metrics_.counter("hiro_limit_store_fallbacks_total",
                     "requests whose limits were checked in this process alone because the shared store was unavailable (on_unavailable: open)", {});
    metrics_.counter("hiro_limit_store_errors_total", "calls to the shared limit store that failed, by operation", {"operation"});
    metrics_.gauge("hiro_limit_store_up", "1 while the last call to the shared limit store succeeded (no store: 1)");
    metrics_.set("hiro_limit_store_up", 1);
}

const KeyLimits& KeyLimiter::limits_of(const std::string& key) const {
    static const KeyLimits none;
    const auto it = limits_.find(key);
    return it == limits_.end() ? none : it->second;
}

void KeyLimiter::close() {
    if (redis_) redis_->close();
}

Task<KeyLimiter::Verdict> KeyLimiter::admit(const std::string& key, const Demand& worst) {
    static std::atomic<std::uint64_t> counter{0};
    const KeyLimits& l = limits_of(key);
    Reservation r;
    r.key = key;
    r.id = replica_ + "-" + std::to_string(counter.fetch_add(1));
    r.reserved = worst;
    r.periods = periods_now();
    r.tokens_metered = l.tokens_per_minute > 0;
    std::optional<Refusal> refused;
    std::string store_error;
    if (shared_) {
        try {
            refused = co_await shared_->reserve(r, l);
            r.shared = true;
            metrics_.set("hiro_limit_store_up", 1);
        } catch (const StoreUnavailable& e) {
            store_error = e.what();
        }
    }
    if (!store_error.empty()) {
        metrics_.set("hiro_limit_store_up", 0);
        metrics_.add("hiro_limit_store_errors_total", {"reserve"});
        if (!state_.fail_open) {
            Verdict v;
            v.status = 503;
            v.type = "server_error";
            v.code = "limit_store_unavailable";
            v.retry_after_s = 1;
            v.message = store_error +
                        "; hiro refuses requests it cannot count against their limits (state.on_unavailable: closed): bring Redis back, or set "
                        "on_unavailable: open to fall back on per-process limits";
            co_return v;
        }
        metrics_.add("hiro_limit_store_fallbacks_total", {});
    }
    if (!r.shared) refused = local_.reserve_now(r, l);
    if (refused) {
        metrics_.add("hiro_limit_refusals_total", {key, refused->limit});
        co_return refusal(key, l, *refused, r.periods);
    }
    Verdict v;
    v.held = std::move(r);
    co_return v;
}

void KeyLimiter::settle(const boost::asio::any_io_executor& executor, Reservation held, Demand used) {
    if (held.shared) {
        boost::asio::co_spawn(executor, settle_shared(std::move(held), used), boost::asio::detached);
    } else {
        local_.settle_now(held, used, periods_now().now_ms);
    }
}

Task<void> KeyLimiter::settle_shared(Reservation held, Demand used) {
    std::string error;
    try {
        co_await shared_->settle(held, used, periods_now().now_ms);
    } catch (const StoreUnavailable& e) {
        error = e.what();
    }
    if (!error.empty()) {
        metrics_.add("hiro_limit_store_errors_total", {"settle"});
        spdlog::warn("request of key '{}' keeps its reservation of {} tokens and ${:.6f} (not its use): {}", held.key, held.reserved.tokens,
                     held.reserved.usd, error);
    }
}

Task<Json> KeyLimiter::usage() {
    const Periods p = periods_now();
    Json keys = Json::array();
    std::string store_error;
    for (const auto& [name, limits] : limits_) {
        std::vector<PeriodUsage> periods;
        if (shared_ && store_error.empty()) {
            try {
                periods = co_await shared_->usage(name, p);
            } catch (const StoreUnavailable& e) {
                store_error = e.what();
            }
        }
        if (periods.empty()) periods = local_.usage_now(name, p);
        keys.push_back({{"key", name}, {"limits", limits_json(limits)}, {"day", period_json(periods.at(0))}, {"month", period_json(periods.at(1))}});
    }
    Json usage = {{"object", "usage"}, {"store", shared_ && store_error.empty() ? shared_->address().url : "this process"}, {"keys", std::move(keys)}};
    if (!store_error.empty()) usage["store_error"] = store_error;  // the counts are this replica's own
    co_return usage;
}

std::map<std::string, KeyLimits> limits_by_key(const GatewayConfig& config) {
    std::map<std::string, KeyLimits> limits;
    for (const auto& k : config.api_keys) limits[k.name] = k.limits;
    if (config.api_keys.empty()) limits[""] = config.key_limits;
    return limits;
}

Demand worst_case(const core::Query& query, const Route& route, std::int64_t default_completion) {
    auto max_tokens = [&](const Json& body) -> std::optional<std::int64_t> {
        for (const char* field : {"max_completion_tokens", "max_tokens"}) {
            if (auto it = body.find(field); it != body.end() && it->is_number_integer()) return it->get<std::int64_t>();
        }
        return std::nullopt;
    };
    const std::int64_t completion = max_tokens(query.body).value_or(max_tokens(route.defaults).value_or(default_completion));
    const auto prompt = static_cast<std::int64_t>(query.body.dump().size());
    Demand d;
    for (std::size_t i = 0; i < route.tiers.size(); ++i) {
        d.tokens += prompt + completion;
        double dearest = route.tiers[i]->settings().spec.price.cost(prompt, completion);
        for (const GuardedTier* f : route.fallbacks[i]) dearest = std::max(dearest, f->settings().spec.price.cost(prompt, completion));
        d.usd += dearest;
    }
    return d;
}

Demand used_by(const RequestTrace& trace) {
    Demand d;
    for (const auto& a : trace.attempts) d.tokens += a.prompt_tokens + a.tokens;
    d.usd = trace.cost_usd();
    return d;
}

}  // namespace hiro::server
