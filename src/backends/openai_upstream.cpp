#include "backends/openai_upstream.h"

#include <chrono>

#include "backends/sse_reader.h"
#include "backends/tier_failure.h"
#include "core/openai_request.h"

namespace hiro::backends {
namespace {

using Clock = std::chrono::steady_clock;
using core::Json;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The message of an upstream's error body, if it is the OpenAI shape.
std::string error_message(const std::string& body) {
    auto j = Json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error")) {
        const auto& e = j["error"];
        if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
        if (e.is_string()) return e.get<std::string>();
    }
    return body.substr(0, 200);
}

FailureKind failure_of_status(int status) {
    if (status == 429) return FailureKind::rate_limited;
    // The request itself was refused (bad field, unknown model, context exceeded): the client's to fix.
    if (status >= 400 && status < 500 && status != 408) return FailureKind::client_error;
    return FailureKind::http_error;
}

FailureKind failure_of(HttpFailure f) {
    switch (f) {
        case HttpFailure::refused: return FailureKind::refused;
        case HttpFailure::timeout: return FailureKind::timeout;
        case HttpFailure::dropped: break;
    }
    return FailureKind::dropped;
}

void add(core::Answer& answer, const core::AnswerDelta& d) {
    if (d.usage) answer.usage = *d.usage;
    if (!d.finish_reason.empty()) answer.finish_reason = d.finish_reason;
    answer.text += d.text;
    answer.tokens.insert(answer.tokens.end(), d.tokens.begin(), d.tokens.end());
}

}  // namespace

OpenAIUpstream::OpenAIUpstream(OpenAIUpstreamConfig config)
    : config_(std::move(config)), client_(HttpUrl::parse(config_.base_url), config_.ca_file, config_.pool) {}

std::string OpenAIUpstream::who() const { return "tier '" + config_.name + "' (" + config_.base_url + ")"; }

std::vector<HttpHeader> OpenAIUpstream::headers(bool stream) const {
    std::vector<HttpHeader> h{{"Content-Type", "application/json"}, {"Accept", stream ? "text/event-stream" : "application/json"}};
    if (!config_.api_key.empty()) h.push_back({"Authorization", "Bearer " + config_.api_key});
    return h;
}

Task<std::string> OpenAIUpstream::post(const char* path, std::string body) {
    try {
        HttpResponse response = co_await client_.send("POST", path, headers(false), std::move(body), config_.timeouts);
        std::string text = co_await response.read_all(std::size_t{64} << 20);
        if (response.status() != 200) {
            const int status = response.status();
            throw TierFailure(failure_of_status(status), status, response.header("Retry-After"),
                              who() + " answered HTTP " + std::to_string(status) + ": " + error_message(text), text);
        }
        co_return text;
    } catch (const HttpError& e) {
        throw TierFailure(failure_of(e.kind()), 0, "", who() + ": " + e.what());
    }
}

Task<std::string> OpenAIUpstream::embed(const core::Json& request) {
    core::Json body = request;
    body["model"] = config_.model;
    co_return co_await post("/embeddings", body.dump(-1, ' ', false, core::Json::error_handler_t::replace));
}

Task<core::Answer> OpenAIUpstream::generate(const core::Query& query, const AskOptions& options) {
    const bool stream = options.stream != nullptr;
    const core::UpstreamOptions upstream{config_.model, stream, options.need_logprobs, config_.top_logprobs, config_.defaults};
    const char* path = query.endpoint == core::Endpoint::chat ? "/chat/completions" : "/completions";

    const auto start = Clock::now();
    core::Answer answer;
    std::optional<HttpResponse> response;
    try {
        response.emplace(co_await client_.send("POST", path, headers(stream), core::upstream_request_body(query, upstream), config_.timeouts));
        const int status = response->status();
        if (status != 200) {
            const std::string body = co_await response->read_all(1 << 20);
            throw TierFailure(failure_of_status(status), status, response->header("Retry-After"),
                              who() + " answered HTTP " + std::to_string(status) + ": " + error_message(body), body);
        }
        if (stream) {
            co_await read_stream(*response, query, *options.stream, answer, start);
        } else {
            answer.response = co_await response->read_all(std::size_t{64} << 20);
            const std::string& body = answer.response;
            if (!Json::accept(body)) throw TierFailure(FailureKind::garbage, status, "", who() + " sent a body that is not JSON: " + body.substr(0, 120));
            core::AnswerDelta d = core::read_delta(body, query.endpoint);
            if (d.finish_reason.empty()) {
                throw TierFailure(FailureKind::garbage, status, "", who() + " answered without finish_reason: " + body.substr(0, 120));
            }
            add(answer, d);
            answer.ttft_ms = ms_since(start);  // a whole answer: its latency
        }
    } catch (const HttpError& e) {
        throw TierFailure(failure_of(e.kind()), 0, "",
                          who() + ": " + (answer.tokens.empty() ? std::string(e.what())
                                                                : "the connection broke after " + std::to_string(answer.tokens.size()) +
                                                                      " tokens: " + e.what()));
    } catch (const TierFailure&) {
        throw;
    } catch (const core::Error& e) {  // an answer that is not the OpenAI shape
        throw TierFailure(FailureKind::garbage, 200, "", who() + ": " + e.what());
    }
    answer.latency_ms = ms_since(start);
    answer.cost_usd = config_.price.cost(answer.usage.prompt_tokens, answer.usage.completion_tokens);
    answer.energy_j = config_.energy_j_per_token * static_cast<double>(answer.usage.completion_tokens);
    co_return answer;
}

Task<void> OpenAIUpstream::read_stream(HttpResponse& response, const core::Query& query, ChunkSink& sink, core::Answer& answer,
                                       Clock::time_point start) {
    SseReader sse;
    std::vector<std::string> events;
    std::size_t seen = 0;
    bool done = false;
    std::string head;  // the first bytes, for messages about what was not a stream
    for (;;) {
        const std::string_view piece = co_await response.read_some();
        if (piece.empty()) break;
        if (head.size() < 120) head.append(piece.substr(0, 120 - head.size()));
        events.clear();
        sse.feed(piece, events);
        for (auto& data : events) {
            ++seen;
            if (data == "[DONE]") {
                done = true;
                continue;
            }
            if (data.find("\"error\"") != std::string::npos && Json::parse(data, nullptr, false).contains("error")) {
                throw TierFailure(FailureKind::http_error, 200, "", who() + " sent an error event: " + error_message(data));
            }
            AnswerChunk chunk{std::move(data), {}};
            chunk.delta = core::read_delta(chunk.json, query.endpoint);
            if (answer.tokens.empty() && !chunk.delta.tokens.empty()) answer.ttft_ms = ms_since(start);
            add(answer, chunk.delta);
            co_await sink.accept(chunk);
        }
    }
    if (seen == 0) throw TierFailure(FailureKind::garbage, 200, "", who() + " answered 200 without an event stream: " + head);
    if (!done && answer.finish_reason.empty()) throw TierFailure(FailureKind::dropped, 200, "", who() + ": the stream ended without finishing the answer");
    if (answer.finish_reason.empty()) answer.finish_reason = "stop";
}

}  // namespace hiro::backends
