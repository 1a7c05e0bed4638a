#include "server/completion.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <map>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "backends/tier_failure.h"

namespace hiro::server {
namespace {

using backends::FailureKind;
using backends::TierFailure;
using nlohmann::json;

std::string next_id() {
    static std::atomic<std::uint64_t> counter{0};
    return "hiro-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(counter.fetch_add(1));
}

// One tier asked while answering a request.
struct Attempt {
    std::string tier;
    std::string outcome;  // accepted, rejected, failed, streamed
    std::optional<double> confidence;
    std::optional<double> threshold;
    double latency_ms = 0.0;
    double cost_usd = 0.0;
    std::int64_t tokens = 0;
    std::string error;
    std::string failure;  // the FailureKind, when failed
};

json trace_json(const std::string& route, const std::vector<Attempt>& attempts, const std::string& answered_by, const std::string& stopped) {
    json tiers = json::array();
    double cost = 0.0;
    for (const auto& a : attempts) {
        json t = {{"tier", a.tier}, {"outcome", a.outcome}, {"latency_ms", a.latency_ms}, {"cost_usd", a.cost_usd}, {"tokens", a.tokens}};
        if (a.confidence) t["confidence"] = std::isfinite(*a.confidence) ? json(*a.confidence) : json(nullptr);
        if (a.threshold) t["threshold"] = *a.threshold;
        if (!a.error.empty()) t["error"] = a.error;
        if (!a.failure.empty()) t["failure"] = a.failure;
        tiers.push_back(std::move(t));
        cost += a.cost_usd;
    }
    json j = {{"route", route}, {"tiers", tiers}, {"stopped", stopped}, {"cost_usd", cost}};
    j["answered_by"] = answered_by.empty() ? json(nullptr) : json(answered_by);
    return j;
}

class RequestRun final : public policy::TierAccess {
public:
    RequestRun(const core::OpenAIRequest& request, const Route& route, ResponseChannel& channel, Metrics& metrics)
        : request_(request), route_(route), channel_(channel), metrics_(metrics), id_(next_id()), stop_(channel.disconnected()) {
        answers_.resize(route.tiers.size());
        // A tier that fails has no confidence at all, so a cascade escalates past it.
        confidences_.assign(route.tiers.size(), -std::numeric_limits<double>::infinity());
    }

    void run() {
        const policy::Decision d = route_.policy->decide({id_, core::policy_text(request_.query)}, *this);
        for (std::size_t i = 0; i + 1 < d.tried.size(); ++i) metrics_.add("hiro_escalations_total", {route_.tiers[d.tried[i]]->name()});
        if (finished_) return;  // streamed live (answer or error already sent)
        const std::string stopped(policy::to_string(d.reason));
        if (answers_[d.chosen]) {
            mark(d.chosen, "accepted");
            send_answer(*answers_[d.chosen], route_.tiers[d.chosen]->name(), stopped);
            return;
        }
        // The chosen tier failed: its fallbacks take over.
        for (GuardedTier* fallback : route_.fallbacks[d.chosen]) {
            if (auto a = buffered(*fallback, std::nullopt, true)) {
                attempts_.back().outcome = "accepted";
                send_answer(*a, fallback->name(), "fallback");
                return;
            }
        }
        send_failure("every tier failed");
    }

    policy::TierSignal ask(std::size_t position) override {
        GuardedTier& tier = *route_.tiers[position];
        if (request_.stream && route_.policy->keeps_answer_of(position)) {
            stream_live(position);
            return {confidences_[position], {}, std::nullopt};
        }
        std::optional<double> threshold;
        if (position < route_.thresholds.size()) threshold = route_.thresholds[position];
        answers_[position] = buffered(tier, threshold, route_.policy->keeps_answer_of(position));
        if (answers_[position]) {
            confidences_[position] = attempts_.back().confidence.value_or(-std::numeric_limits<double>::infinity());
            attempt_of_[position] = attempts_.size() - 1;
            attempts_.back().outcome = "rejected";  // until the policy keeps it
        }
        return {confidences_[position], {}, std::nullopt};
    }

    std::optional<bool> known_correct(std::size_t) const override { return std::nullopt; }

private:
    // The answer's confidence; none when the tier sent no log-probabilities.
    std::optional<double> score(const core::Answer& a) const {
        if (a.tokens.empty() || std::isnan(a.tokens.front().logprob)) return std::nullopt;
        return route_.confidence->estimate(a.tokens);
    }

    void mark(std::size_t position, const char* outcome) {
        if (attempt_of_.count(position)) attempts_[attempt_of_[position]].outcome = outcome;
    }

    Attempt& record(const GuardedTier& tier) {
        attempts_.push_back(Attempt{});
        attempts_.back().tier = tier.name();
        return attempts_.back();
    }

    void record_failure(Attempt& a, const TierFailure& f) {
        spdlog::warn("request {}: {}", id_, f.what());
        a.outcome = "failed";
        a.error = f.what();
        a.failure = std::string(backends::to_string(f.kind()));
        failures_.push_back(f.kind());
        if (!f.retry_after().empty()) retry_after_ = f.retry_after();
    }

    // Asks a tier for a whole answer; nullopt (and a failed attempt) if it cannot give one.
    // The query for a tier; a confidence needs logprobs, a kept answer only if the client wants them.
    core::Query query_for(bool kept) const {
        core::Query q = request_.query;
        q.params.logprobs = !kept || request_.logprobs;
        return q;
    }

    std::optional<core::Answer> buffered(GuardedTier& tier, std::optional<double> threshold, bool kept) {
        Attempt& a = record(tier);
        a.threshold = threshold;
        try {
            core::Answer answer = tier.generate(query_for(kept), nullptr, stop_);
            a.latency_ms = answer.latency_ms;
            a.cost_usd = answer.cost_usd;
            a.tokens = answer.usage.completion_tokens ? answer.usage.completion_tokens : static_cast<std::int64_t>(answer.tokens.size());
            a.confidence = score(answer);
            return answer;
        } catch (const TierFailure& f) {
            if (f.kind() == FailureKind::cancelled) throw;
            record_failure(a, f);
            return std::nullopt;
        }
    }

    Headers headers_for(const std::string& tier) const { return {{"x-hiro-tier", tier}, {"x-request-id", id_}}; }

    void send_chunk(const std::vector<core::TokenLogprob>& tokens, std::string_view finish, const json* trace = nullptr) {
        json chunk = core::openai_chunk(tokens, finish, request_.endpoint, request_.model, id_, request_.logprobs);
        if (trace) chunk["hiro"] = *trace;
        channel_.send_event(chunk.dump());
    }

    void open_stream(const std::string& tier) {
        channel_.start_stream(headers_for(tier));
        if (request_.endpoint == core::Endpoint::chat) send_chunk({}, "");  // the assistant role comes first
    }

    void send_answer(const core::Answer& answer, const std::string& tier, const std::string& stopped) {
        metrics_.add("hiro_answers_total", {tier});
        const json trace = trace_json(route_.name, attempts_, tier, stopped);
        finished_ = true;
        if (!request_.stream) {
            json body = core::openai_response(answer, request_.endpoint, request_.model, id_, request_.logprobs);
            body["hiro"] = trace;
            channel_.respond(200, headers_for(tier), body.dump());
            return;
        }
        open_stream(tier);
        for (const auto& t : answer.tokens) send_chunk({t}, "");
        send_chunk({}, answer.finish_reason.empty() ? "stop" : answer.finish_reason, &trace);
        channel_.send_event("[DONE]");
        channel_.end_stream();
    }

    // An OpenAI error with the status that tells the client what to do.
    void send_failure(const std::string& what) {
        finished_ = true;
        bool all_rate_limited = !failures_.empty(), all_busy = !failures_.empty(), all_timeouts = !failures_.empty();
        for (auto k : failures_) {
            all_rate_limited = all_rate_limited && k == FailureKind::rate_limited;
            all_busy = all_busy && k == FailureKind::busy;
            all_timeouts = all_timeouts && k == FailureKind::timeout;
        }
        const int status = all_rate_limited ? 429 : all_busy ? 503 : all_timeouts ? 504 : 502;
        std::string message = what;
        if (!attempts_.empty()) message += ": " + attempts_.back().error;
        json body = core::openai_error(message, status == 429 ? "rate_limit_error" : "upstream_error",
                                       status == 429 ? "rate_limited" : status == 503 ? "overloaded" : "upstream_failed");
        body["hiro"] = trace_json(route_.name, attempts_, "", "failed");
        metrics_.add("hiro_failed_requests_total", {route_.name});
        Headers headers{{"x-request-id", id_}};
        if (status == 429 || status == 503) headers.emplace_back("retry-after", retry_after_.empty() ? "1" : retry_after_);
        channel_.respond(status, headers, body.dump());
    }

    // Streams the kept tier's answer as it is generated. When the stream
    // breaks, the tier's fallbacks continue from the text already sent, so the
    // client sees one unbroken answer, or an explicit error event when no tier
    // is left: never a silent truncation.
    void stream_live(std::size_t position) {
        finished_ = true;
        std::vector<GuardedTier*> candidates{route_.tiers[position]};
        candidates.insert(candidates.end(), route_.fallbacks[position].begin(), route_.fallbacks[position].end());
        std::string sent_text;
        std::int64_t sent_tokens = 0;
        bool opened = false;
        for (GuardedTier* tier : candidates) {
            core::Query query = query_for(true);
            if (!sent_text.empty()) {
                if (query.messages.empty()) {
                    query.prompt += sent_text;
                } else {
                    query.messages.push_back({"assistant", sent_text});  // continue this assistant turn
                }
                query.params.max_tokens = std::max<int>(1, query.params.max_tokens - static_cast<int>(sent_tokens));
            }
            record(*tier);
            const std::size_t index = attempts_.size() - 1;
            std::int64_t tier_tokens = 0;
            const backends::TokenSink sink = [&](const core::TokenLogprob& t) {
                if (!opened) {
                    open_stream(tier->name());
                    opened = true;
                }
                send_chunk({t}, "");
                sent_text += t.text;
                ++sent_tokens;
                ++tier_tokens;
                return !stop_.stop_requested();
            };
            try {
                core::Answer answer = tier->generate(query, sink, stop_);
                Attempt& done = attempts_[index];
                done.outcome = "streamed";
                done.latency_ms = answer.latency_ms;
                done.cost_usd = answer.cost_usd;
                done.tokens = tier_tokens;
                done.confidence = score(answer);
                if (done.confidence) confidences_[position] = *done.confidence;
                if (!opened) open_stream(tier->name());
                metrics_.add("hiro_answers_total", {tier->name()});
                const json trace = trace_json(route_.name, attempts_, tier->name(), tier == candidates.front() ? "streamed" : "fallback");
                send_chunk({}, answer.finish_reason.empty() ? "stop" : answer.finish_reason, &trace);
                channel_.send_event("[DONE]");
                channel_.end_stream();
                return;
            } catch (const TierFailure& f) {
                if (f.kind() == FailureKind::cancelled) throw;
                record_failure(attempts_[index], f);
                attempts_[index].tokens = tier_tokens;
                spdlog::warn("request {}: {} tokens were streamed; {}", id_, sent_tokens,
                             tier == candidates.back() ? "no tier is left" : "continuing on the next tier");
            }
        }
        if (!opened) {
            finished_ = false;
            send_failure("every tier failed");
            return;
        }
        json error = core::openai_error("the answer broke off after " + std::to_string(sent_tokens) +
                                            " tokens and no tier was left to continue it: " + attempts_.back().error,
                                        "upstream_error", "stream_broken");
        error["hiro"] = trace_json(route_.name, attempts_, "", "failed");
        metrics_.add("hiro_failed_requests_total", {route_.name});
        channel_.send_event(error.dump());
        channel_.send_event("[DONE]");
        channel_.end_stream();
    }

    const core::OpenAIRequest& request_;
    const Route& route_;
    ResponseChannel& channel_;
    Metrics& metrics_;
    std::string id_;
    std::stop_token stop_;
    std::vector<std::optional<core::Answer>> answers_;
    std::vector<double> confidences_;
    std::map<std::size_t, std::size_t> attempt_of_;  // position -> its attempt in attempts_
    std::vector<Attempt> attempts_;
    std::vector<FailureKind> failures_;
    std::string retry_after_;
    bool finished_ = false;
};

}  // namespace

void answer_completion(const core::OpenAIRequest& request, const Route& route, ResponseChannel& channel, Metrics& metrics) {
    RequestRun run(request, route, channel, metrics);
    try {
        run.run();
    } catch (const TierFailure& f) {
        if (f.kind() != FailureKind::cancelled) throw;
        metrics.add("hiro_client_disconnects_total", {});
        spdlog::info("a client went away; its generation was cancelled");
    }
}

}  // namespace hiro::server
