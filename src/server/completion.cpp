#include "server/completion.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "backends/tier_failure.h"
#include "server/answer_labeller.h"
#include "server/answer_stream.h"

namespace hiro::server {
namespace {

using backends::FailureKind;
using backends::TierFailure;
using core::Json;
using Clock = std::chrono::steady_clock;

constexpr double no_confidence = -std::numeric_limits<double>::infinity();
constexpr std::size_t none = static_cast<std::size_t>(-1);

std::string wire(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The query as the route's tiers get it: the policy's defaults where the client set nothing.
core::Query with_defaults(core::Query query, const Json& defaults) {
    for (const auto& [key, value] : defaults.items()) {
        if (!query.body.contains(key)) query.body[key] = value;
    }
    return query;
}

class RequestRun {
public:
    RequestRun(core::OpenAIRequest& request, const Route& route, ClientStream& client, Metrics& metrics, const std::string& id,
               std::optional<double> deadline_ms)
        : request_(request),
          route_(route),
          client_(client),
          metrics_(metrics),
          id_(id),
          view_{request.endpoint, request.logprobs, request.include_usage},
          stream_(client, view_),
          query_(with_defaults(std::move(request.query), route.defaults)),
          text_(core::policy_text(query_)),
          answers_(route.tiers.size()),
          agreement_keys_(route.tiers.size()),
          attempt_of_(route.tiers.size(), none),
          confidence_of_(route.tiers.size(), no_confidence),
          deadline_ms_(deadline_ms) {
        trace_.id = id;
        trace_.route = route.name;
        if (route.task_router) task_ = trace_.task = route.task_router->predict(text_);
    }

    const RequestTrace& trace() const { return trace_; }

    Task<void> run() {
        co_await decide_and_answer();
        if (route_.tuning) hand_to_learner(co_await boost::asio::this_coro::executor);
    }

    // The request's API key, for feedback on its answer.
    void set_key(const std::string& key) { key_ = key; }

    Task<void> decide_and_answer() {
        const policy::QueryView view{id_, text_, nullptr};
        policy::Decision& d = decision_;
        for (;;) {
            const policy::Step step = route_.policy->next(view, d);
            if (!step.ask) {
                d.chosen = step.position;
                d.reason = step.reason;
                break;
            }
            const policy::TierSignal signal = co_await ask(step.position);
            d.asked.push_back({step.position, signal});
            if (finished_) {  // streamed live: the kept answer is out
                d.chosen = step.position;
                break;
            }
        }
        for (std::size_t i = 0; i + 1 < d.asked.size(); ++i) metrics_.add("hiro_escalations_total", {tier_name(d.asked[i].position)});
        if (finished_) co_return;
        if (answers_[d.chosen]) {
            mark(d.chosen, "accepted");
            co_await send_answer(*answers_[d.chosen], tier_name(d.chosen), std::string(policy::to_string(d.reason)));
            co_return;
        }
        // The chosen tier failed: its fallbacks take over.
        for (GuardedTier* fallback : route_.fallbacks[d.chosen]) {
            if (co_await reuse(fallback)) co_return;
            if (auto answer = co_await buffered(*fallback, std::nullopt, true, fallback != route_.fallbacks[d.chosen].back())) {
                trace_.attempts.back().outcome = "accepted";
                co_await send_answer(*answer, fallback->name(), "fallback");
                co_return;
            }
        }
        co_await keep_rejected_or_fail();
    }

    // The upstream refused the request itself: its status and error go back to the client.
    Task<void> send_client_error(const TierFailure& f) {
        Json body = Json::parse(f.body(), nullptr, false);
        if (!body.is_object()) body = core::openai_error(f.what(), "invalid_request_error");
        trace_.stopped = "client_error";
        body["hiro"] = trace_.json();
        if (stream_.opened()) {
            co_await stream_.fail(std::move(body));
        } else {
            co_await client_.respond(f.status(), headers_for(""), wire(body));
        }
    }

    // An error inside hiro: said to the client, on the stream if it is open.
    Task<void> send_internal_error(const std::string& what) {
        Json body = core::openai_error("internal error: " + what, "server_error", "internal_error");
        body["hiro"] = trace_.json();
        if (stream_.opened()) {
            co_await stream_.fail(std::move(body));
        } else if (client_.status() == 0) {
            co_await client_.respond(500, headers_for(""), wire(body));
        }
    }

private:
    const std::string& tier_name(std::size_t position) const { return route_.tiers[position]->name(); }

    // An adaptive cascade learns from a query its policy answered cleanly
    // (every tier it asked answered; no fallback): it is kept for labelling
    // (and feedback), off the request path, the client having its answer.
    void hand_to_learner(const boost::asio::any_io_executor& executor) {
        const policy::Decision& d = decision_;
        if (trace_.stopped != "confident" && trace_.stopped != "last_tier" && trace_.stopped != "streamed") return;
        AnsweredQuery q;
        q.key = key_;
        q.kept = d.chosen;
        q.cost_usd = trace_.cost_usd();
        std::vector<std::string> texts;
        for (const auto& a : d.asked) {
            const bool streamed = a.position == d.chosen && !answers_[a.position];
            if (!answers_[a.position] && !streamed) return;
            texts.push_back(streamed ? stream_.text_sent() : answers_[a.position]->text);
            q.confidence.push_back(a.signal.confidence);
        }
        if (texts.size() != d.chosen + 1) return;  // a cascade asks 0..kept in order
        const bool verify = route_.tuning->answered(id_, std::move(q));
        LabelJob job{route_.tuning, id_, std::move(texts), verify ? route_.tiers[d.chosen + 1] : nullptr, verify ? query_ : core::Query{}};
        boost::asio::co_spawn(executor, label_answer(std::move(job)), boost::asio::detached);
    }

    Headers headers_for(const std::string& tier) const {
        Headers h{{"x-request-id", id_}};
        if (!tier.empty()) h.emplace_back("x-hiro-tier", tier);
        return h;
    }

    // The answer's confidence; none when the tier sent no log-probabilities.
    std::optional<double> score(const core::Answer& a) const {
        if (a.tokens.empty() || std::isnan(a.tokens.front().logprob)) return std::nullopt;
        return route_.confidence->estimate(a.tokens);
    }

    void mark(std::size_t position, const char* outcome) {
        if (attempt_of_[position] != none) trace_.attempts[attempt_of_[position]].outcome = outcome;
    }

    // What a tier is asked with: the latency budget left, when another tier
    // can answer should this one predict it cannot in time.
    backends::AskOptions ask_options(bool need_logprobs, backends::ChunkSink* stream, bool has_next) const {
        backends::AskOptions o;
        o.need_logprobs = need_logprobs;
        o.stream = stream;
        o.task = task_;
        o.can_pass_on = has_next;
        if (deadline_ms_ && has_next) o.budget_ms = *deadline_ms_ - std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
        return o;
    }

    void fill(Attempt& a, const core::Answer& answer) {
        a.endpoint = answer.served_by;
        a.latency_ms = answer.latency_ms;
        a.cost_usd = answer.cost_usd;
        a.tokens = answer.usage.completion_tokens ? answer.usage.completion_tokens : static_cast<std::int64_t>(answer.tokens.size());
        a.prompt_tokens = answer.usage.prompt_tokens;
        a.confidence = score(answer);
    }

    // Records a failed attempt; a refusal of the request itself ends the request.
    void record_failure(std::size_t index, const TierFailure& f) {
        Attempt& a = trace_.attempts[index];
        a.outcome = "failed";
        a.error = f.what();
        a.failure = std::string(backends::to_string(f.kind()));
        if (f.kind() == FailureKind::client_error) throw f;
        if (f.kind() == FailureKind::overflow) {
            a.outcome = "overflow";
            a.overflow = f.what();
            metrics_.add("hiro_overflow_total", {a.tier});
            return;  // a decision, not a fault
        }
        spdlog::warn("request {}: {}", id_, f.what());
        failures_.push_back(f.kind());
        if (!f.retry_after().empty()) retry_after_ = f.retry_after();
    }

    Task<policy::TierSignal> ask(std::size_t position) {
        const bool kept = route_.policy->keeps_answer_of(position);
        if (request_.stream && kept) {
            co_await stream_live(position);
            co_return policy::TierSignal{confidence_of_[position], {}, std::nullopt};
        }
        std::optional<double> threshold;
        if (route_.tuning && position + 1 < route_.tiers.size()) {
            threshold = route_.tuning->cascade().threshold(position);  // what it decides with now
        } else if (position < route_.thresholds.size()) {
            threshold = route_.thresholds[position];
        }
        const bool has_next = !kept || !route_.fallbacks[position].empty();
        answers_[position] = co_await buffered(*route_.tiers[position], threshold, kept, has_next);
        if (!answers_[position]) co_return policy::TierSignal{no_confidence, {}, std::nullopt};
        attempt_of_[position] = trace_.attempts.size() - 1;
        Attempt& a = trace_.attempts.back();
        a.outcome = "rejected";  // until the policy keeps it
        agreement_keys_[position] = policy::agreement_key(answers_[position]->text);
        co_return policy::TierSignal{a.confidence.value_or(no_confidence), agreement_keys_[position], std::nullopt};
    }

    // Asks a tier for a whole answer; nullopt (and a failed attempt) if it cannot give one.
    // A kept answer needs logprobs only if the client wants them; a judged one needs them for its confidence.
    Task<std::optional<core::Answer>> buffered(GuardedTier& tier, std::optional<double> threshold, bool kept, bool has_next) {
        const std::size_t index = trace_.attempts.size();
        trace_.add(tier.name()).threshold = threshold;
        std::optional<TierFailure> failure;
        try {
            const backends::AskOptions options = ask_options(!kept, nullptr, has_next);
            core::Answer answer = co_await tier.generate(query_, options);
            fill(trace_.attempts[index], answer);
            co_return answer;
        } catch (const TierFailure& f) {
            failure.emplace(f);
        }
        record_failure(index, *failure);
        co_return std::nullopt;
    }

    // The position of a tier of the route that already answered this request.
    std::size_t answered_position(const GuardedTier* tier) const {
        for (std::size_t p = 0; p < route_.tiers.size(); ++p) {
            if (route_.tiers[p] == tier && answers_[p]) return p;
        }
        return none;
    }

    // A fallback that already answered this request is not asked again: its answer is served.
    Task<bool> reuse(const GuardedTier* fallback) {
        const std::size_t p = answered_position(fallback);
        if (p == none || stream_.opened()) co_return false;
        mark(p, "accepted");
        trace_.attempts[attempt_of_[p]].note = "its answer was kept: the tiers it had escalated to failed";
        co_await send_answer(*answers_[p], fallback->name(), "fallback");
        co_return true;
    }

    // The last resort: the answer of the most capable tier that gave one, though
    // the policy had rejected it, rather than no answer; else an error.
    Task<void> keep_rejected_or_fail() {
        for (auto a = decision_.asked.rbegin(); a != decision_.asked.rend(); ++a) {
            if (co_await reuse(route_.tiers[a->position])) co_return;
        }
        co_await send_failure("every tier failed");
    }

    Task<void> send_answer(const core::Answer& answer, const std::string& tier, const std::string& stopped) {
        metrics_.add("hiro_answers_total", {tier});
        trace_.answered_by = tier;
        trace_.stopped = stopped;
        finished_ = true;
        const Headers headers = headers_for(tier);
        if (!request_.stream) {
            // The tier's bytes as they came, with the trace at the end (and without logprobs only hiro wanted).
            std::string body = core::with_field(core::prepare_response(answer.response, view_), "hiro", trace_.json());
            co_await client_.respond(200, headers, std::move(body));
            co_return;
        }
        stream_.set_headers(headers);
        for (const Json& chunk : core::chunks_of(answer.response, request_.endpoint)) {
            backends::AnswerChunk piece{wire(chunk), {}};
            piece.delta = core::read_delta(piece.json, request_.endpoint);
            co_await stream_.accept(piece);
        }
        co_await stream_.finish(trace_.json());
    }

    // An OpenAI error with the status that tells the client what to do.
    Task<void> send_failure(const std::string& what) {
        finished_ = true;
        bool all_rate_limited = !failures_.empty(), all_busy = !failures_.empty(), all_timeouts = !failures_.empty();
        for (auto k : failures_) {
            all_rate_limited = all_rate_limited && k == FailureKind::rate_limited;
            all_busy = all_busy && k == FailureKind::busy;
            all_timeouts = all_timeouts && k == FailureKind::timeout;
        }
        const int status = all_rate_limited ? 429 : all_busy ? 503 : all_timeouts ? 504 : 502;
        std::string message = what;
        if (!trace_.attempts.empty()) message += ": " + trace_.attempts.back().error;
        Json body = core::openai_error(message, status == 429 ? "rate_limit_error" : "upstream_error",
                                       status == 429 ? "rate_limited" : status == 503 ? "overloaded" : "upstream_failed");
        trace_.stopped = "failed";
        body["hiro"] = trace_.json();
        metrics_.add("hiro_failed_requests_total", {route_.name});
        Headers headers = headers_for("");
        if (status == 429 || status == 503) headers.emplace_back("retry-after", retry_after_.empty() ? "1" : retry_after_);
        co_await client_.respond(status, headers, wire(body));
    }

    // Streams the kept tier's answer as it is generated. When the stream
    // breaks, the tier's fallbacks continue from the text already sent, so the
    // client sees one unbroken answer, or an explicit error event when no tier
    // is left: never a silent truncation.
    Task<void> stream_live(std::size_t position) {
        finished_ = true;
        std::vector<GuardedTier*> candidates{route_.tiers[position]};
        candidates.insert(candidates.end(), route_.fallbacks[position].begin(), route_.fallbacks[position].end());
        bool cut_in_a_call = false;
        for (GuardedTier* tier : candidates) {
            if (tier != candidates.front()) {
                // Only text can be continued (as a prefill); a tool call half sent cannot, and starting over would repeat it.
                cut_in_a_call = stream_.committed() && stream_.text_sent().empty();
                if (cut_in_a_call) break;
                if (co_await reuse(tier)) co_return;
            }
            std::optional<core::Query> continuation;
            if (!stream_.text_sent().empty()) continuation = core::continued_query(query_, stream_.text_sent(), stream_.tokens_sent());
            const core::Query& query = continuation ? *continuation : query_;
            const std::size_t index = trace_.attempts.size();
            trace_.add(tier->name());
            const std::int64_t before = stream_.tokens_sent();
            stream_.set_headers(headers_for(tier->name()));
            std::optional<TierFailure> failure;
            try {
                const backends::AskOptions options = ask_options(false, &stream_, tier != candidates.back());
                const core::Answer answer = co_await tier->generate(query, options);
                Attempt& a = trace_.attempts[index];
                fill(a, answer);
                a.outcome = "streamed";
                if (a.confidence) confidence_of_[position] = *a.confidence;
                metrics_.add("hiro_answers_total", {tier->name()});
                trace_.answered_by = tier->name();
                trace_.stopped = tier == candidates.front() ? "streamed" : "fallback";
                co_await stream_.finish(trace_.json());
                co_return;
            } catch (const TierFailure& f) {
                failure.emplace(f);
            }
            trace_.attempts[index].tokens = stream_.tokens_sent() - before;
            record_failure(index, *failure);
            if (stream_.opened()) {
                spdlog::warn("request {}: {} tokens were streamed; {}", id_, stream_.tokens_sent(),
                             tier == candidates.back() ? "no tier is left" : "continuing on the next tier");
            }
        }
        if (!stream_.opened()) {
            co_await keep_rejected_or_fail();
            co_return;
        }
        const std::string why = cut_in_a_call ? " tokens, in a tool call, which another tier cannot continue and must not start over: "
                                              : " tokens and no tier was left to continue it: ";
        Json error = core::openai_error("the answer broke off after " + std::to_string(stream_.tokens_sent()) + why + trace_.attempts.back().error,
                                        "upstream_error", "stream_broken");
        trace_.stopped = "failed";
        error["hiro"] = trace_.json();
        metrics_.add("hiro_failed_requests_total", {route_.name});
        co_await stream_.fail(std::move(error));
    }

    const core::OpenAIRequest& request_;
    const Route& route_;
    ClientStream& client_;
    Metrics& metrics_;
    const std::string& id_;
    core::ClientView view_;
    AnswerStream stream_;
    core::Query query_;
    std::string text_;
    policy::Decision decision_;
    std::vector<std::optional<core::Answer>> answers_;
    std::vector<std::string> agreement_keys_;
    std::vector<std::size_t> attempt_of_;   // position -> its attempt in the trace
    std::vector<double> confidence_of_;
    RequestTrace trace_;
    std::vector<FailureKind> failures_;
    std::string retry_after_;
    bool finished_ = false;
    std::optional<double> deadline_ms_;  // the request's latency budget
    std::string task_;                   // what the route's task router predicts the query is
    std::string key_;                    // the API key's name
    Clock::time_point start_ = Clock::now();
};

}  // namespace

Task<RequestTrace> answer_completion(core::OpenAIRequest& request, const Route& route, ClientStream& client, Metrics& metrics,
                                     const std::string& request_id, std::optional<double> deadline_ms, const std::string& key) {
    RequestRun run(request, route, client, metrics, request_id, deadline_ms ? deadline_ms : route.deadline_ms);
    run.set_key(key);
    std::optional<TierFailure> refused;
    std::string internal;
    try {
        co_await run.run();
    } catch (const TierFailure& f) {
        if (f.kind() != FailureKind::client_error) throw;
        refused.emplace(f);
    } catch (const boost::system::system_error&) {
        throw;  // the client is gone (or cancelled): nothing can reach it
    } catch (const std::exception& e) {
        internal = e.what();
    }
    if (refused) co_await run.send_client_error(*refused);
    if (!internal.empty()) {
        spdlog::error("request {} failed inside hiro: {}", request_id, internal);
        co_await run.send_internal_error(internal);
    }
    co_return run.trace();
}

}  // namespace hiro::server
