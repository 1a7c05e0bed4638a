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

GuardedTier::GuardedTier(TierSettings settings, std::unique_ptr<backends::Tier> tier, Metrics& metrics)
    : settings_(std::move(settings)),
      tier_(std::move(tier)),
      metrics_(metrics),
      breaker_(settings_.breaker_failures, settings_.breaker_cooldown) {
    const int slots = settings_.max_concurrent > 0 ? settings_.max_concurrent : tier_->capacity();
    if (slots > 0) slots_ = std::make_unique<AsyncSemaphore>(slots);
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
    // A streamed answer's first content cannot be taken back: after it, no retry.
    bool sent = false;
    backends::ChunkSink counting;
    backends::AskOptions ask = options;
    if (options.stream) {
        counting = [&sent, &sink = *options.stream](backends::AnswerChunk& chunk) -> Task<void> {
            sent = sent || !chunk.delta.tokens.empty() || !chunk.delta.text.empty();
            co_await sink(chunk);
        };
        ask.stream = &counting;
    }
    for (int attempt = 0, waited = 0;; ++attempt) {
        SemaphoreUnit slot;
        if (slots_) {
            if (!co_await slots_->acquire(settings_.queue_timeout)) {
                metrics_.add("hiro_upstream_errors_total", {tier, "busy"});
                throw TierFailure(FailureKind::busy, 0, "",
                                  "tier '" + tier + "' has no free slot within queue_timeout_ms (" +
                                      std::to_string(settings_.max_concurrent > 0 ? settings_.max_concurrent : tier_->capacity()) +
                                      " requests at once)");
            }
            slot = SemaphoreUnit(slots_.get());
        }
        std::optional<TierFailure> failure;
        if (!breaker_.allow()) {
            metrics_.add("hiro_upstream_errors_total", {tier, "circuit_open"});
            failure.emplace(FailureKind::busy, 0, "", "tier '" + tier + "' is skipped: its circuit is open after repeated failures");
        } else {
            try {
                core::Answer answer = co_await tier_->generate(query, ask);
                breaker_.record_success();
                metrics_.observe("hiro_tier_latency_seconds", {tier}, answer.latency_ms / 1000.0);
                metrics_.add("hiro_tokens_total", {tier, "prompt"}, static_cast<double>(answer.usage.prompt_tokens));
                metrics_.add("hiro_tokens_total", {tier, "completion"}, static_cast<double>(answer.usage.completion_tokens));
                metrics_.add("hiro_cost_usd_total", {tier}, answer.cost_usd);
                co_return answer;
            } catch (const TierFailure& f) {
                failure.emplace(f);
            }
            const auto& failover = settings_.failover_on;
            if (failure->kind() == FailureKind::client_error &&
                std::find(failover.begin(), failover.end(), failure->status()) != failover.end()) {
                failure.emplace(FailureKind::http_error, failure->status(), failure->retry_after(), failure->what());
            }
            if (failure->kind() == FailureKind::client_error) {
                breaker_.record_success();  // the request's fault, not the tier's
                throw *failure;
            }
            breaker_.record_failure();
            metrics_.add("hiro_upstream_errors_total", {tier, std::string(backends::to_string(failure->kind()))});
        }
        slot = SemaphoreUnit();
        if (sent) throw *failure;
        if (transient(*failure) && Clock::now() < budget_end) {
            metrics_.add("hiro_retries_total", {tier, "waited"});
            co_await wait_to_retry(*failure, waited++, budget_end);
            continue;
        }
        if (attempt >= settings_.retries || failure->kind() == FailureKind::busy) throw *failure;
        metrics_.add("hiro_retries_total", {tier, "immediate"});
    }
}

}  // namespace hiro::server
