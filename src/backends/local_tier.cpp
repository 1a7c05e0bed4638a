#include "backends/local_tier.h"

#include <deque>
#include <random>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "backends/local_request.h"
#include "backends/tier_failure.h"
#include "core/utf8.h"

namespace hiro::backends {
namespace {

namespace asio = boost::asio;
using core::Json;

// One decode, shared by the compute thread that runs it and the coroutine
// that awaits it. Everything but `stop` is touched only on the coroutine's
// I/O thread: the compute thread posts its tokens there.
struct DecodeJob {
    explicit DecodeJob(const asio::any_io_executor& ex) : wake(ex) {}
    asio::steady_timer wake;  // the coroutine waits on it; each post from the decode cancels it
    std::deque<core::TokenLogprob> tokens;
    std::optional<engine::Generation> result;
    std::exception_ptr error;
    bool finished = false;
    std::stop_source stop;
    bool logprobs = false;
};

std::string completion_id(core::Endpoint endpoint) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string id = endpoint == core::Endpoint::chat ? "chatcmpl-" : "cmpl-";
    for (int i = 0; i < 32; ++i) id += alphabet[rng() % (sizeof alphabet - 1)];
    return id;
}

// Streams what the engine generates as OpenAI chunks. Text is held back while
// a multi-byte UTF-8 character is incomplete, so no chunk ever carries half a
// character and the chunks concatenate to the answer's text.
class ChunkWriter {
public:
    ChunkWriter(ChunkSink& sink, core::Endpoint endpoint, std::string model, std::string id, bool logprobs)
        : sink_(sink), endpoint_(endpoint), model_(std::move(model)), id_(std::move(id)), logprobs_(logprobs) {}

    Task<void> token(const core::TokenLogprob& t) {
        if (!started_) {
            started_ = true;
            if (endpoint_ == core::Endpoint::chat) co_await send(core::openai_chunk({}, "", endpoint_, model_, id_, false));
        }
        pending_text_ += t.text;
        pending_.push_back(t);
        const std::size_t ready = core::sendable_utf8(pending_text_);
        if (ready > 0) co_await flush(ready);
    }

    Task<void> finish(const core::Answer& answer) {
        if (!started_ && endpoint_ == core::Endpoint::chat) co_await send(core::openai_chunk({}, "", endpoint_, model_, id_, false));
        if (!pending_text_.empty()) co_await flush(pending_text_.size());
        co_await send(core::openai_chunk({}, answer.finish_reason, endpoint_, model_, id_, false));
        Json usage = core::openai_chunk({}, "", endpoint_, model_, id_, false);
        usage["choices"] = Json::array();
        usage["usage"] = core::usage_json(answer.usage);
        co_await send(std::move(usage));
    }

private:
    Task<void> flush(std::size_t bytes) {
        std::vector<core::TokenLogprob> tokens(pending_.begin(), pending_.end());
        Json chunk = core::openai_chunk(tokens, "", endpoint_, model_, id_, logprobs_);
        // The chunk's text is what is sendable; the tokens' own texts stay as the model made them.
        auto& choice = chunk["choices"][0];
        (endpoint_ == core::Endpoint::chat ? choice["delta"]["content"] : choice["text"]) = pending_text_.substr(0, bytes);
        pending_text_.erase(0, bytes);
        pending_.clear();
        co_await send(std::move(chunk));
    }

    Task<void> send(Json body) {
        AnswerChunk chunk{body.dump(-1, ' ', false, Json::error_handler_t::replace), {}};
        chunk.delta = core::read_delta(chunk.json, endpoint_);
        co_await sink_.accept(chunk);
    }

    ChunkSink& sink_;
    core::Endpoint endpoint_;
    std::string model_;
    std::string id_;
    bool logprobs_;
    bool started_ = false;
    std::string pending_text_;
    std::vector<core::TokenLogprob> pending_;
};

// Each text's embedding and token count, computed on the thread that awaits it.
Task<std::vector<std::pair<std::vector<float>, std::size_t>>> embed_all(std::shared_ptr<engine::Engine> engine, std::vector<std::string> texts) {
    std::vector<std::pair<std::vector<float>, std::size_t>> out;
    for (const auto& text : texts) out.emplace_back(engine->embed(text), engine->model().tokenize(text, true).size());
    co_return out;
}

}  // namespace

LocalTier::LocalTier(std::shared_ptr<engine::Engine> engine, LocalTierOptions options)
    : engine_(std::move(engine)),
      options_(std::move(options)),
      slots_(options_.slots > 0 ? options_.slots
                                : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                                                  std::max(1, engine_->model().options().threads))),
      compute_(static_cast<std::size_t>(slots_)) {
    if (options_.name.empty()) options_.name = engine_->model().options().path;
}

LocalTier::~LocalTier() { stop(); }

void LocalTier::stop() {
    shutdown_.request_stop();
    compute_.join();
}

Task<core::Answer> LocalTier::generate(const core::Query& query, const AskOptions& options) {
    auto ex = co_await asio::this_coro::executor;
    auto job = std::make_shared<DecodeJob>(ex);
    // A caller that goes away (its coroutine destroyed or cancelled) stops its decode.
    struct StopUnlessFinished {
        std::shared_ptr<DecodeJob> job;
        ~StopUnlessFinished() {
            if (!job->finished) job->stop.request_stop();
        }
    } stop_guard{job};

    const bool streaming = options.stream != nullptr;
    asio::post(compute_, [job, engine = engine_, query, defaults = options_.defaults, need = options.need_logprobs, streaming,
                          shutdown = shutdown_.get_token()] {
        auto deliver = [&job](auto fn) { asio::post(job->wake.get_executor(), [job, fn = std::move(fn)]() mutable { fn(*job); job->wake.cancel(); }); };
        std::stop_callback on_shutdown(shutdown, [&job] { job->stop.request_stop(); });
        try {
            if (job->stop.stop_requested()) throw boost::system::system_error(asio::error::operation_aborted);
            LocalRequest request = read_local_request(engine->model(), query, defaults, need);
            deliver([logprobs = request.logprobs](DecodeJob& j) { j.logprobs = logprobs; });
            engine::TokenCallback on_token;
            if (streaming) {
                on_token = [&deliver](const core::TokenLogprob& t) {
                    deliver([t](DecodeJob& j) { j.tokens.push_back(t); });
                    return true;
                };
            }
            engine::Generation g = engine->generate(request.generation, on_token, job->stop.get_token());
            deliver([g = std::move(g)](DecodeJob& j) mutable {
                j.result = std::move(g);
                j.finished = true;
            });
        } catch (...) {
            deliver([e = std::current_exception()](DecodeJob& j) {
                j.error = e;
                j.finished = true;
            });
        }
    });

    const std::string id = completion_id(query.endpoint);
    std::optional<ChunkWriter> writer;
    for (;;) {
        while (!job->tokens.empty()) {
            if (!writer) writer.emplace(*options.stream, query.endpoint, options_.name, id, job->logprobs);
            const core::TokenLogprob t = std::move(job->tokens.front());
            job->tokens.pop_front();
            co_await writer->token(t);
        }
        if (job->finished) break;
        job->wake.expires_at(asio::steady_timer::time_point::max());
        co_await job->wake.async_wait(asio::as_tuple(asio::use_awaitable));
        co_await check_cancelled();
    }
    if (job->error) {
        try {
            std::rethrow_exception(job->error);
        } catch (const core::Error& e) {
            // A request the engine cannot take (a field it does not support, a prompt longer than its context) is the client's to fix.
            const int status = e.code() == core::ErrorCode::invalid_input ? 400 : 500;
            throw TierFailure(status == 400 ? FailureKind::client_error : FailureKind::http_error, status, "",
                              "tier '" + options_.name + "' (local): " + e.what(),
                              core::openai_error(std::string("tier '") + options_.name + "': " + e.what(),
                                                 status == 400 ? "invalid_request_error" : "server_error")
                                  .dump());
        }
    }
    core::Answer answer = std::move(job->result->answer);
    const auto& u = answer.usage;
    if (options_.price) answer.cost_usd = options_.price->cost(u.prompt_tokens, u.completion_tokens);
    answer.energy_j = options_.joules_per_token * static_cast<double>(u.prompt_tokens + u.completion_tokens) +
                      options_.watts * answer.latency_ms / 1000.0;
    if (streaming) {
        if (!writer) writer.emplace(*options.stream, query.endpoint, options_.name, id, job->logprobs);
        co_await writer->finish(answer);
    } else {
        answer.response = core::openai_response(answer, query.endpoint, options_.name, id, job->logprobs)
                              .dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    co_return answer;
}

Task<std::string> LocalTier::embed(const core::Json& request) {
    auto refuse = [&](const std::string& what) {
        return TierFailure(FailureKind::client_error, 400, "", "tier '" + options_.name + "' (local): " + what,
                           core::openai_error(what, "invalid_request_error").dump());
    };
    std::vector<std::string> inputs;
    const auto input = request.find("input");
    if (input != request.end() && input->is_string()) {
        inputs.push_back(input->get<std::string>());
    } else if (input != request.end() && input->is_array() && !input->empty()) {
        for (const auto& i : *input) {
            if (!i.is_string()) throw refuse("'input' must be a string or an array of strings for local tiers (token arrays are not supported)");
            inputs.push_back(i.get<std::string>());
        }
    } else {
        throw refuse("'input' must be a string or a non-empty array of strings");
    }
    for (const auto& [key, value] : request.items()) {
        if (key == "input" || key == "user" || value.is_null()) continue;
        if (key == "encoding_format" && value == "float") continue;
        throw refuse("'" + key + "' is not supported by local tiers' embeddings");
    }
    // Embedding is compute: on the compute pool, and this coroutine resumes on its own thread after.
    std::vector<std::pair<std::vector<float>, std::size_t>> rows;
    std::string invalid;
    try {
        rows = co_await boost::asio::co_spawn(compute_, embed_all(engine_, inputs), boost::asio::use_awaitable);
    } catch (const core::Error& e) {  // an input the model cannot embed (empty)
        invalid = e.what();
    }
    if (!invalid.empty()) throw refuse(invalid);
    Json data = Json::array();
    std::size_t tokens = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", rows[i].first}});
        tokens += rows[i].second;
    }
    const Json response = {{"object", "list"}, {"data", std::move(data)}, {"model", options_.name},
                           {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
    co_return response.dump();
}

}  // namespace hiro::backends
