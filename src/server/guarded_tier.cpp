#include "server/guarded_tier.h"

#include <algorithm>
#include <random>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hiro::server {

namespace asio = boost::asio;
using backends::FailureKind;
using backends::TierFailure;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds backoff_base{50};
constexpr std::chrono::milliseconds backoff_cap{2000};

// A tier that is briefly gone (restarting, overloaded) and worth waiting for.
bool transient(const TierFailure& f) {
    switch (f.kind()) {
        case FailureKind::refused:
        case FailureKind::dropped:
        case FailureKind::rate_limited:
        case FailureKind::busy: return true;
        case FailureKind::http_error: return f.status() == 502 || f.status() == 503;
        default: return false;
    }
}

// "Retry-After: 7" (seconds); an HTTP date or nothing gives none.
std::optional<std::chrono::milliseconds> retry_after(const std::string& header) {
    if (header.empty() || header.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::chrono::milliseconds(std::stoll(header) * 1000);
}

}  // namespace

GuardedTier::GuardedTier(TierSettings settings, std::unique_ptr<backends::EndpointPool> tier, Metrics& metrics)
    : settings_(std::move(settings)),
      tier_(std::move(tier)),
      metrics_(metrics),
      breaker_(settings_.breaker_failures, settings_.breaker_cooldown) {
    const int slots = settings_.max_concurrent > 0 ? settings_.max_concurrent : tier_->capacity();
    if (slots > 0) slots_ = std::make_unique<backends::AsyncSemaphore>(slots);
}

Task<void> GuardedTier::wait_to_retry(const TierFailure& failure, int attempt, Clock::time_point budget_end) {
    // Full jitter (AWS's "exponential backoff and jitter"): spreads the retries of many waiting requests.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto ceiling = std::min<std::chrono::milliseconds>(backoff_cap, backoff_base * (1LL << std::min(attempt, 10)));
    auto delay = std::chrono::milliseconds(std::uniform_int_distribution<long long>(1, ceiling.count())(rng));
    if (auto asked = retry_after(failure.retry_after())) delay = *asked;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(budget_end - Clock::now());
    asio::steady_timer timer(co_await asio::this_coro::executor, std::min(delay, std::max(left, std::chrono::milliseconds(0))));
    co_await timer.async_wait(asio::use_awaitable);
}

Task<core::Answer> GuardedTier::generate(const core::Query& query, const backends::AskOptions& options) {
    const std::string& tier = name();
    const auto budget_end = Clock::now() + settings_.retry_budget;
    int waited = 0;
    // The circuit is asked once per request; within the retry budget, an open one is waited out.
    while (!breaker_.allow()) {
        metrics_.add("hiro_upstream_errors_total", {tier, "circuit_open"});
        const TierFailure open(FailureKind::busy, 0, "", "tier '" + tier + "' is skipped: its circuit is open after repeated failures");
        if (Clock::now() >= budget_end) throw open;
        co_await wait_to_retry(open, waited++, budget_end);
    }
    // The request's outcome, not each attempt's, is what the circuit breaker counts.
    for (int attempt = 0;; ++attempt) {
        backends::SemaphoreUnit slot;
        if (slots_) {
            if (!co_await slots_->acquire(settings_.queue_timeout)) {
                metrics_.add("hiro_upstream_errors_total", {tier, "busy"});
                breaker_.record_success();  // full, not failing
                throw TierFailure(FailureKind::busy, 0, "",
                                  "tier '" + tier + "' has no free slot within queue_timeout_ms (" +
                                      std::to_string(settings_.max_concurrent > 0 ? settings_.max_concurrent : tier_->capacity()) +
                                      " requests at once)");
            }
            slot = backends::SemaphoreUnit(slots_.get());
        }
        std::optional<TierFailure> failure;
        try {
            core::Answer answer = co_await tier_->generate(query, options);
            breaker_.record_success();
            {
                std::lock_guard lock(outcome_mutex_);
                last_failed_ = false;
            }
            metrics_.observe("hiro_tier_latency_seconds", {tier}, answer.latency_ms / 1000.0);
            metrics_.add("hiro_tokens_total", {tier, "prompt"}, static_cast<double>(answer.usage.prompt_tokens));
            metrics_.add("hiro_tokens_total", {tier, "completion"}, static_cast<double>(answer.usage.completion_tokens));
            metrics_.add("hiro_cost_usd_total", {tier}, answer.cost_usd);
            co_return answer;
        } catch (const TierFailure& f) {
            failure.emplace(f);
        }
        slot = backends::SemaphoreUnit();
        if (failure->kind() == FailureKind::overflow) throw *failure;  // a decision to move on, not a fault
        const auto& failover = settings_.failover_on;
        if (failure->kind() == FailureKind::client_error &&
            std::find(failover.begin(), failover.end(), failure->status()) != failover.end()) {
            failure.emplace(FailureKind::http_error, failure->status(), failure->retry_after(), failure->what());
        }
        if (failure->kind() == FailureKind::client_error) {
            breaker_.record_success();  // the request's fault, not the tier's
            throw *failure;
        }
        metrics_.add("hiro_upstream_errors_total", {tier, std::string(backends::to_string(failure->kind()))});
        const bool committed = options.stream && options.stream->committed();  // what went out cannot be taken back
        if (!committed && transient(*failure) && Clock::now() < budget_end) {
            metrics_.add("hiro_retries_total", {tier, "waited"});
            co_await wait_to_retry(*failure, waited++, budget_end);
            continue;
        }
        if (!committed && attempt < settings_.retries) {
            metrics_.add("hiro_retries_total", {tier, "immediate"});
            continue;
        }
        if (breaker_.record_failure() && tell_open_) tell_open_(co_await asio::this_coro::executor, tier, settings_.breaker_cooldown);
        {
            std::lock_guard lock(outcome_mutex_);
            last_failed_ = true;
            last_error_ = failure->what();
            last_error_at_ = std::chrono::system_clock::now();
        }
        throw *failure;
    }
}

core::Json GuardedTier::readiness() const {
    const char* circuit = breaker_.state();
    core::Json endpoints = core::Json::array();
    bool any_admitted = false;
    for (const auto& e : tier_->status()) {
        any_admitted = any_admitted || e.admitted;
        core::Json j = {{"name", e.name}, {"admitted", e.admitted}, {"outstanding", e.outstanding}};
        if (!e.why_not.empty()) j["why_not"] = e.why_not;
        endpoints.push_back(std::move(j));
    }
    std::lock_guard lock(outcome_mutex_);
    core::Json r = {{"ready", std::string_view(circuit) != "open" && !last_failed_ && any_admitted}, {"circuit", circuit}};
    if (endpoints.size() > 1) r["endpoints"] = std::move(endpoints);
    if (!last_error_.empty()) {
        r["last_error"] = last_error_;
        r["last_error_age_s"] = std::chrono::duration<double>(std::chrono::system_clock::now() - last_error_at_).count();
    }
    return r;
}

}  // namespace hiro::server
