#include "backends/openai_upstream.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "backends/sse_reader.h"
#include "backends/tier_failure.h"
#include "core/openai_protocol.h"

namespace hiro::backends {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The message of an upstream's error body, if it is the OpenAI shape.
std::string error_message(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error")) {
        const auto& e = j["error"];
        if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
        if (e.is_string()) return e.get<std::string>();
    }
    return body.substr(0, 200);
}

}  // namespace

OpenAIUpstream::OpenAIUpstream(OpenAIUpstreamConfig config)
    : config_(std::move(config)), client_(HttpUrl::parse(config_.base_url), config_.ca_file) {}

core::Answer OpenAIUpstream::generate(const core::Query& query, const TokenSink& on_token, std::stop_token stop) {
    const auto endpoint = query.messages.empty() ? core::Endpoint::completions : core::Endpoint::chat;
    // Stream only when tokens go on as they come: llama-server, for one,
    // closes the connection after every streamed answer, so a whole answer
    // is cheaper as one JSON body over a kept-alive connection.
    const bool stream = static_cast<bool>(on_token);
    const std::string body = core::upstream_request_body(query, endpoint, config_.model, config_.top_logprobs, stream);
    std::vector<HttpHeader> headers{{"Content-Type", "application/json"}, {"Accept", stream ? "text/event-stream" : "application/json"}};
    if (!config_.api_key.empty()) headers.push_back({"Authorization", "Bearer " + config_.api_key});

    const auto start = Clock::now();
    core::Answer answer;
    bool done = false;         // saw [DONE] or a finish_reason
    bool sink_declined = false;
    std::string garbage;       // why the stream could not be read, if it could not
    std::string body_text;     // what the upstream sent (a whole answer, or an error)
    int status = 0;
    std::size_t events = 0;
    // One event of a stream, or the whole body of a plain answer.
    auto on_data = [&](std::string_view data) {
        ++events;
        if (!garbage.empty() || sink_declined) return;
        if (data == "[DONE]") {
            done = true;
            return;
        }
        auto j = nlohmann::json::parse(data, nullptr, false);
        if (j.is_discarded()) {
            garbage = (stream ? "an event that is not JSON: " : "a body that is not JSON: ") + std::string(data.substr(0, 120));
            return;
        }
        try {
            core::AnswerDelta d = core::parse_openai_delta(j, endpoint);
            if (d.usage) answer.usage = *d.usage;
            if (!d.finish_reason.empty()) {
                answer.finish_reason = d.finish_reason;
                done = true;
            }
            for (auto& t : d.tokens) {
                if (answer.tokens.empty()) answer.ttft_ms = ms_since(start);  // a whole answer: its latency
                answer.text += t.text;
                answer.tokens.push_back(t);
                if (on_token && !on_token(answer.tokens.back())) {
                    sink_declined = true;
                    return;
                }
            }
        } catch (const core::Error& e) {
            garbage = e.what();
        }
    };
    SseReader sse(on_data);
    HttpResult r = client_.send(
        "POST", endpoint == core::Endpoint::chat ? "/chat/completions" : "/completions", headers, body,
        [&](std::string_view bytes) {
            if (status == 0) status = -1;  // headers were read; the status is in the result
            if (stream) {
                if (body_text.size() < 65536) body_text.append(bytes);
                sse.feed(bytes);
            } else {
                body_text.append(bytes);
            }
            return garbage.empty() && !sink_declined;
        },
        config_.timeouts, stop);
    answer.latency_ms = ms_since(start);
    if (!stream && r.status == 200 && r.failure == HttpFailure::none) on_data(body_text);

    const std::string who = "tier '" + config_.name + "' (" + config_.base_url + ")";
    if (r.status != 0 && r.status != 200) {
        const FailureKind kind = r.status == 429 ? FailureKind::rate_limited : FailureKind::http_error;
        throw TierFailure(kind, r.status, r.retry_after,
                          who + " answered HTTP " + std::to_string(r.status) + ": " + error_message(body_text));
    }
    if (sink_declined) {
        answer.finish_reason = "cancelled";
        return answer;
    }
    if (!garbage.empty()) throw TierFailure(FailureKind::garbage, r.status, "", who + " sent " + garbage);
    switch (r.failure) {
        case HttpFailure::none: break;
        case HttpFailure::cancelled:
            throw TierFailure(FailureKind::cancelled, r.status, "", who + ": the request was cancelled");
        case HttpFailure::refused: throw TierFailure(FailureKind::refused, 0, "", who + ": " + r.error);
        case HttpFailure::timeout: throw TierFailure(FailureKind::timeout, r.status, "", who + ": " + r.error);
        case HttpFailure::dropped:
            throw TierFailure(FailureKind::dropped, r.status, "",
                              who + ": the connection broke after " + std::to_string(answer.tokens.size()) + " tokens: " + r.error);
    }
    if (!done) {
        if (events == 0) {
            throw TierFailure(FailureKind::garbage, r.status, "", who + " answered 200 without an event stream: " + body_text.substr(0, 120));
        }
        if (!stream) throw TierFailure(FailureKind::garbage, r.status, "", who + " answered without finish_reason: " + body_text.substr(0, 120));
        throw TierFailure(FailureKind::dropped, r.status, "", who + ": the stream ended without finishing the answer");
    }
    if (answer.finish_reason.empty()) answer.finish_reason = "stop";
    answer.cost_usd = config_.price.cost(answer.usage.prompt_tokens, answer.usage.completion_tokens);
    answer.energy_j = config_.energy_j_per_token * static_cast<double>(answer.usage.completion_tokens);
    return answer;
}

}  // namespace hiro::backends
