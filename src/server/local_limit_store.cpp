#include "server/local_limit_store.h"

#include <algorithm>
#include <cmath>

namespace hiro::server {

void LocalLimitStore::purge(Meters& m, std::int64_t now_ms) {
    const std::int64_t horizon = now_ms - window_ms;
    while (!m.requests.empty() && m.requests.front() <= horizon) m.requests.pop_front();
    while (!m.tokens.empty() && m.tokens.front().at_ms <= horizon) {
        m.token_sum -= m.tokens.front().tokens;
        m.token_of.erase(m.tokens.front().id);
        m.tokens.pop_front();
    }
}

std::optional<Refusal> LocalLimitStore::reserve_now(const Reservation& r, const KeyLimits& limits) {
    const Periods& p = r.periods;
    std::lock_guard lock(mutex_);
    Meters& m = keys_[r.key];
    purge(m, p.now_ms);
    // When enough of the oldest entries leave the window for `used` to fall below `limit`.
    auto retry = [&](double used, double limit, auto&& entries, auto&& at, auto&& amount) {
        for (const auto& e : entries) {
            used -= amount(e);
            if (used < limit) return std::max<std::int64_t>(1, at(e) + window_ms - p.now_ms);
        }
        return window_ms;
    };
    if (limits.requests_per_minute > 0 && static_cast<double>(m.requests.size()) >= limits.requests_per_minute) {
        const double used = static_cast<double>(m.requests.size());
        return Refusal{"requests_per_minute", used,
                       retry(used, limits.requests_per_minute, m.requests, [](std::int64_t t) { return t; }, [](std::int64_t) { return 1.0; })};
    }
    if (limits.tokens_per_minute > 0 && static_cast<double>(m.token_sum) >= limits.tokens_per_minute) {
        const double used = static_cast<double>(m.token_sum);
        return Refusal{"tokens_per_minute", used,
                       retry(used, limits.tokens_per_minute, m.tokens, [](const TokenEntry& e) { return e.at_ms; },
                             [](const TokenEntry& e) { return static_cast<double>(e.tokens); })};
    }
    PeriodUsage& day = m.periods[p.day];
    PeriodUsage& month = m.periods[p.month];
    day.period = p.day;
    month.period = p.month;
    const std::pair<PeriodUsage*, double> budgets[] = {{&day, limits.budget_usd_per_day}, {&month, limits.budget_usd_per_month}};
    for (const auto& [usage, budget] : budgets) {
        const double used = usage->cost_usd + usage->reserved_usd;
        if (budget > 0 && used >= budget) {
            const bool daily = usage == &day;
            return Refusal{daily ? "budget_usd_per_day" : "budget_usd_per_month", used,
                           std::max<std::int64_t>(1, (daily ? p.day_ends_ms : p.month_ends_ms) - p.now_ms)};
        }
    }
    if (limits.requests_per_minute > 0) m.requests.push_back(p.now_ms);
    if (limits.tokens_per_minute > 0) {
        m.tokens.push_back({p.now_ms, r.id, r.reserved.tokens});
        m.token_of[r.id] = std::prev(m.tokens.end());
        m.token_sum += r.reserved.tokens;
    }
    for (PeriodUsage* u : {&day, &month}) {
        ++u->requests;
        ++u->in_flight;
        u->reserved_tokens += r.reserved.tokens;
        u->reserved_usd += r.reserved.usd;
    }
    return std::nullopt;
}

void LocalLimitStore::settle_now(const Reservation& r, const Demand& used, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    Meters& m = keys_[r.key];
    if (r.tokens_metered) {
        if (auto it = m.token_of.find(r.id); it != m.token_of.end()) {
            m.token_sum += used.tokens - it->second->tokens;
            it->second->tokens = used.tokens;
        } else {  // the request outlived the window: its tokens count from now
            m.tokens.push_back({now_ms, r.id, used.tokens});
            m.token_of[r.id] = std::prev(m.tokens.end());
            m.token_sum += used.tokens;
        }
    }
    for (const std::string& period : {r.periods.day, r.periods.month}) {
        PeriodUsage& u = m.periods[period];
        --u.in_flight;
        u.reserved_tokens -= r.reserved.tokens;
        u.reserved_usd -= r.reserved.usd;
        u.tokens += used.tokens;
        u.cost_usd += used.usd;
    }
}

std::vector<PeriodUsage> LocalLimitStore::usage_now(const std::string& key, const Periods& periods) {
    std::lock_guard lock(mutex_);
    std::vector<PeriodUsage> result;
    const auto found = keys_.find(key);
    for (const std::string& period : {periods.day, periods.month}) {
        PeriodUsage u;
        if (found != keys_.end()) {
            if (auto it = found->second.periods.find(period); it != found->second.periods.end()) u = it->second;
        }
        u.period = period;
        result.push_back(u);
    }
    return result;
}

Task<std::optional<Refusal>> LocalLimitStore::reserve(const Reservation& r, const KeyLimits& limits) { co_return reserve_now(r, limits); }
Task<void> LocalLimitStore::settle(const Reservation& r, const Demand& used, std::int64_t now_ms) {
    settle_now(r, used, now_ms);
    co_return;
}
Task<std::vector<PeriodUsage>> LocalLimitStore::usage(const std::string& key, const Periods& periods) { co_return usage_now(key, periods); }

}  // namespace hiro::server
