#include "backends/endpoint_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "backends/endpoint_balancer.h"
#include "backends/endpoint_probe.h"
#include "backends/tier_failure.h"

namespace hiro::backends {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Endpoint {
    std::unique_ptr<Tier> tier;
    EndpointSettings settings;
    std::unique_ptr<HttpClient> probe;      // its health and load pages; null for a local model
    std::unique_ptr<AsyncSemaphore> slots;  // max_concurrent; null: no limit in hiro
    std::atomic<int> outstanding{0};
    std::atomic<std::size_t> queued{0};
    // Guarded by the pool's mutex:
    core::ServiceEstimate estimate;
    int failures_in_row = 0;
    std::uint64_t requests = 0, failures = 0, ejections = 0;
    Clock::time_point ejected_until{};
    Clock::time_point admitted_at{};  // when it last came back, for slow start
    std::string ejected_why;
    bool healthy = true;
    std::string unhealthy_why;
    double polled_busy = -1, polled_slots = -1;
    double last_latency_ms = 0, last_predicted_ms = 0;
};

namespace {

// Counts a request against an endpoint while it is sent or waits to be.
class Outstanding {
public:
    explicit Outstanding(std::atomic<int>& n) : n_(n) { ++n_; }
    ~Outstanding() { --n_; }
    Outstanding(const Outstanding&) = delete;
    Outstanding& operator=(const Outstanding&) = delete;

private:
    std::atomic<int>& n_;
};

// Hands a streamed answer on, remembering what of it went out: until
// something did, a failed endpoint's request starts over on another; after,
// another endpoint continues from the text sent (as the gateway does across
// tiers, counting text as core::AnswerStream does).
class StreamedSoFar final : public ChunkSink {
public:
    explicit StreamedSoFar(ChunkSink& sink) : sink_(sink) {}
    Task<void> accept(AnswerChunk& chunk) override {
        const core::AnswerDelta& d = chunk.delta;
        if (!d.role_only) sent_ = true;
        if (!d.finishes && d.has_choices) {
            text_ += d.text;
            tokens_ += static_cast<std::int64_t>(d.tokens.size());
        }
        co_await sink_.accept(chunk);
    }
    bool committed() const override { return sink_.committed(); }
    void next_attempt() { sent_ = false; }
    bool sent() const { return sent_; }  // by the current attempt
    const std::string& text() const { return text_; }
    std::int64_t tokens() const { return tokens_; }

private:
    ChunkSink& sink_;
    bool sent_ = false;
    std::string text_;
    std::int64_t tokens_ = 0;
};

// Failures that say something about the endpoint (not about the request, nor
// a refusal by hiro's own guards).
bool endpoint_fault(FailureKind k) {
    return k == FailureKind::refused || k == FailureKind::timeout || k == FailureKind::dropped || k == FailureKind::http_error ||
           k == FailureKind::garbage;
}

}  // namespace

EndpointPool::EndpointPool(std::string name, PoolSettings settings, std::vector<std::pair<std::unique_ptr<Tier>, EndpointSettings>> endpoints)
    : name_(std::move(name)), settings_(std::move(settings)), balance_(&balancer(settings_.balance)) {
    for (auto& [tier, s] : endpoints) {
        auto e = std::make_unique<Endpoint>();
        e->tier = std::move(tier);
        e->settings = std::move(s);
        // A lone local model is bounded by its tier's guard already; in a pool each endpoint is bounded here.
        const int own = endpoints.size() > 1 ? e->tier->capacity() : 0;
        const int limit = e->settings.max_concurrent > 0 ? e->settings.max_concurrent : own;
        if (limit > 0) e->slots = std::make_unique<AsyncSemaphore>(limit);
        tagged_ = tagged_ || !e->settings.tags.empty();
        if (!e->settings.probe_url.empty()) e->probe = std::make_unique<HttpClient>(HttpUrl::parse(e->settings.probe_url));
        endpoints_.push_back(std::move(e));
    }
    start_probes();
}

EndpointPool::~EndpointPool() { stop(); }

int EndpointPool::capacity() const {
    if (endpoints_.size() == 1) return endpoints_.front()->tier->capacity();
    return 0;  // each endpoint's own slots bound it
}

void EndpointPool::stop() {
    probes_.stop();
    if (probe_thread_.joinable()) probe_thread_.join();
    for (auto& e : endpoints_) e->tier->stop();
}

bool EndpointPool::admitted(const Endpoint& e, Clock::time_point now) const { return e.healthy && now >= e.ejected_until; }

double EndpointPool::in_flight(const Endpoint& e) const { return std::max<double>(e.outstanding.load(), e.polled_busy); }

int EndpointPool::slots(const Endpoint& e) const {
    if (e.settings.max_concurrent > 0) return e.settings.max_concurrent;
    if (e.polled_slots > 0) return static_cast<int>(e.polled_slots);
    if (e.tier->capacity() > 0) return e.tier->capacity();
    return std::numeric_limits<int>::max();  // nothing says it queues
}

std::string EndpointPool::why_out(const Endpoint& e, Clock::time_point now) const {
    if (!e.healthy) return "unhealthy: " + e.unhealthy_why;
    if (now < e.ejected_until) return "ejected: " + e.ejected_why;
    return "";
}

EndpointPool::Choice EndpointPool::choose(const std::vector<Endpoint*>& tried, const std::string& tag) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto now = Clock::now();
    std::vector<Endpoint*> eligible;
    std::vector<Candidate> candidates;
    std::lock_guard lock(mutex_);
    for (auto& e : endpoints_) {
        if (!admitted(*e, now) || std::find(tried.begin(), tried.end(), e.get()) != tried.end()) continue;
        if (!tag.empty() && std::find(e->settings.tags.begin(), e->settings.tags.end(), tag) == e->settings.tags.end()) continue;
        double weight = e->settings.weight;
        if (settings_.slow_start.count() > 0 && now - e->admitted_at < settings_.slow_start) {
            weight *= std::max(0.1, std::chrono::duration<double>(now - e->admitted_at) / settings_.slow_start);
        }
        std::optional<double> predicted;
        if (e->estimate.known()) predicted = e->estimate.predict_ms(in_flight(*e), slots(*e));
        eligible.push_back(e.get());
        candidates.push_back({weight, in_flight(*e), predicted});
    }
    if (eligible.empty()) return {};
    const std::size_t pick = (*balance_)(candidates, turn_++, rng);
    return {eligible[pick], candidates[pick].predicted_ms};
}

std::string EndpointPool::unavailable() const {
    std::lock_guard lock(mutex_);
    std::string why;
    const auto now = Clock::now();
    for (const auto& e : endpoints_) {
        const std::string reason = why_out(*e, now);
        why += (why.empty() ? "" : "; ") + e->settings.name + " " + (reason.empty() ? "already tried" : reason);
    }
    return "tier '" + name_ + "' has no endpoint left to ask (" + why + ")";
}

void EndpointPool::record_success(Endpoint& e, double latency_ms, double predicted_ms) {
    std::lock_guard lock(mutex_);
    e.estimate.observe(latency_ms);
    e.failures_in_row = 0;
    ++e.requests;
    e.last_latency_ms = latency_ms;
    e.last_predicted_ms = predicted_ms;
}

// A refused connection ejects at once (nothing listens there); other faults
// after eject_after in a row. Never the last admitted endpoint: the tier
// would then answer nothing, where trying costs little.
void EndpointPool::record_failure(Endpoint& e, FailureKind kind, const std::string& what) {
    std::lock_guard lock(mutex_);
    ++e.requests;
    ++e.failures;
    ++e.failures_in_row;
    const auto now = Clock::now();
    const bool eject = kind == FailureKind::refused || (settings_.eject_after > 0 && e.failures_in_row >= settings_.eject_after);
    if (!eject || endpoints_.size() == 1 || !admitted(e, now)) return;
    const auto others = std::count_if(endpoints_.begin(), endpoints_.end(), [&](const auto& x) { return x.get() != &e && admitted(*x, now); });
    if (others == 0) return;
    ++e.ejections;
    e.ejected_until = now + settings_.ejection * std::min<std::uint64_t>(e.ejections, 10);
    e.admitted_at = e.ejected_until;
    e.ejected_why = what;
    e.failures_in_row = 0;
    spdlog::warn("tier '{}': endpoint {} ejected for {} ms: {}", name_, e.settings.name,
                 std::chrono::duration_cast<std::chrono::milliseconds>(e.ejected_until - now).count(), what);
}

Task<core::Answer> EndpointPool::generate(const core::Query& query, const AskOptions& options) {
    const auto start = Clock::now();
    std::vector<Endpoint*> tried;
    std::optional<TierFailure> last;
    const std::string tag = tagged_ ? options.task : "";
    std::optional<StreamedSoFar> sink;
    if (options.stream) sink.emplace(*options.stream);
    std::optional<core::Query> continuation;  // once part of the answer went out
    for (;;) {
        Choice choice = choose(tried, tag);
        if (choice.endpoint == nullptr && !tag.empty()) {
            if (options.can_pass_on) {
                throw TierFailure(FailureKind::overflow, 0, "", "no admitted endpoint is tagged '" + tag + "'");
            }
            choice = choose(tried, "");  // the last tier a request has: any endpoint rather than none
        }
        Endpoint* e = choice.endpoint;
        if (e == nullptr) {
            if (last) throw *last;
            throw TierFailure(FailureKind::busy, 0, "", unavailable());
        }
        tried.push_back(e);
        const std::optional<double> predicted = choice.predicted_ms;
        Outstanding counted(e->outstanding);
        if (options.budget_ms && predicted && !continuation) {  // a stream under way is not sent elsewhere
            const double left = *options.budget_ms - std::chrono::duration<double, std::milli>(Clock::now() - start).count();
            if (core::overflows(*predicted, left)) {
                throw TierFailure(FailureKind::overflow, 0, "", core::overflow_reason(*predicted, left) + " on " + e->settings.name);
            }
        }
        SemaphoreUnit slot;
        if (e->slots) {
            ++e->queued;
            const bool got = co_await e->slots->acquire(settings_.queue_timeout);
            --e->queued;
            if (!got) {  // the tier's whole wait is spent: another endpoint's queue would double it
                throw TierFailure(FailureKind::busy, 0, "",
                                  fmt::format("endpoint {} of tier '{}' had no free slot within queue_timeout_ms", e->settings.name, name_));
            }
            slot = SemaphoreUnit(e->slots.get());
        }
        if (sink) sink->next_attempt();
        AskOptions ask;
        ask.need_logprobs = options.need_logprobs;
        ask.stream = sink ? &*sink : nullptr;
        std::optional<TierFailure> failure;
        try {
            core::Answer answer = co_await e->tier->generate(continuation ? *continuation : query, ask);
            record_success(*e, answer.latency_ms, predicted.value_or(0.0));
            if (endpoints_.size() > 1) answer.served_by = e->settings.name;
            co_return answer;
        } catch (const TierFailure& f) {
            failure.emplace(f);
        }
        if (!endpoint_fault(failure->kind())) throw *failure;
        record_failure(*e, failure->kind(), failure->what());
        if (sink && sink->sent()) {
            // Only text can be continued (as a prefill); a tool call half sent cannot, and starting over would repeat it.
            if (sink->text().empty()) throw *failure;
            continuation = core::continued_query(query, sink->text(), sink->tokens());
        }
        if (endpoints_.size() > 1) spdlog::warn("tier '{}': endpoint {} failed, {} another: {}", name_, e->settings.name,
                                                continuation ? "continuing the stream on" : "trying", failure->what());
        last = std::move(failure);
    }
}

Task<std::string> EndpointPool::embed(const core::Json& request) {
    std::vector<Endpoint*> tried;
    std::optional<TierFailure> last;
    while (Endpoint* e = choose(tried, "").endpoint) {
        tried.push_back(e);
        Outstanding counted(e->outstanding);
        std::optional<TierFailure> failure;
        try {
            co_return co_await e->tier->embed(request);
        } catch (const TierFailure& f) {
            failure.emplace(f);
        }
        if (!endpoint_fault(failure->kind())) throw *failure;
        record_failure(*e, failure->kind(), failure->what());
        last = std::move(failure);
    }
    if (last) throw *last;
    throw TierFailure(FailureKind::busy, 0, "", unavailable());
}

void EndpointPool::start_probes() {
    const bool health = settings_.health_interval.count() > 0, load = settings_.load_source != "none";
    if (!health && !load) return;
    for (auto& e : endpoints_) {
        if (e->probe) asio::co_spawn(probes_, probe(*e), asio::detached);
    }
    probe_thread_ = std::thread([this] { probes_.run(); });
}

// One endpoint's health checks and load polls, each at its interval. A failed
// check takes the endpoint out at once and a passing one brings it back (with
// a slow start): a hung server is out within one interval.
Task<void> EndpointPool::probe(Endpoint& e) {
    const bool health = settings_.health_interval.count() > 0, load = settings_.load_source != "none";
    auto next_health = Clock::now(), next_load = Clock::now();
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        std::string why;
        if (health && Clock::now() >= next_health) {
            const bool ok = co_await check_health(*e.probe, settings_.health_path, settings_.health_timeout, why);
            std::lock_guard lock(mutex_);
            if (ok && !e.healthy) {
                e.admitted_at = Clock::now();
                spdlog::info("tier '{}': endpoint {} is healthy again", name_, e.settings.name);
            } else if (!ok && e.healthy) {
                ++e.ejections;
                spdlog::warn("tier '{}': endpoint {} failed its health check: {}", name_, e.settings.name, why);
            }
            e.healthy = ok;
            e.unhealthy_why = why;
            next_health = Clock::now() + settings_.health_interval;
        }
        if (load && Clock::now() >= next_load) {
            bool know_slots = e.settings.max_concurrent > 0;
            {
                std::lock_guard lock(mutex_);
                know_slots = know_slots || e.polled_slots > 0;
            }
            const auto polled = co_await poll_load(*e.probe, settings_.load_source, know_slots, settings_.health_timeout, why);
            std::lock_guard lock(mutex_);
            e.polled_busy = polled ? polled->busy : -1;
            if (polled && polled->slots) e.polled_slots = *polled->slots;
            next_load = Clock::now() + settings_.load_interval;
        }
        timer.expires_at(health && load ? std::min(next_health, next_load) : health ? next_health : next_load);
        co_await timer.async_wait(asio::use_awaitable);
    }
}

std::vector<EndpointStatus> EndpointPool::status() const {
    std::vector<EndpointStatus> out;
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    for (const auto& e : endpoints_) {
        EndpointStatus s;
        s.name = e->settings.name;
        s.healthy = e->healthy;
        s.admitted = admitted(*e, now);
        s.why_not = why_out(*e, now);
        s.outstanding = e->outstanding.load();
        s.queued = e->queued.load();
        s.polled_busy = e->polled_busy;
        s.polled_slots = e->polled_slots;
        s.requests = e->requests;
        s.failures = e->failures;
        s.ejections = e->ejections;
        if (e->estimate.known()) {
            s.service_ms = e->estimate.service_ms();
            s.predicted_ms = e->estimate.predict_ms(in_flight(*e), slots(*e));
        }
        s.last_latency_ms = e->last_latency_ms;
        s.last_predicted_ms = e->last_predicted_ms;
        s.tags = e->settings.tags;
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace hiro::backends
