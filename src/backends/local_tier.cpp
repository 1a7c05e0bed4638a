#include "backends/local_tier.h"

#include <deque>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "backends/local_answer.h"
#include "backends/local_request.h"
#include "backends/tier_failure.h"

namespace hiro::backends {
namespace {

namespace asio = boost::asio;
using core::Json;

// A request's decodes (one per choice), shared by the compute thread that
// runs them and the coroutine that awaits them. Everything but `stop` is
// touched only on the coroutine's I/O thread: the compute thread posts there.
struct DecodeJob {
    explicit DecodeJob(const asio::any_io_executor& ex) : wake(ex) {}
    struct Event {
        int choice = 0;
        std::optional<core::TokenLogprob> token;  // a streamed token, or
        std::optional<engine::Generation> done;   // the choice's whole generation
    };
    asio::steady_timer wake;  // the coroutine waits on it; each post from the decode cancels it
    std::deque<Event> events;
    std::optional<LocalRequest> request;  // read on the compute thread (tokenizing is compute too)
    std::exception_ptr error;
    bool finished = false;
    std::stop_source stop;
};

Task<void> send_all(ChunkSink& sink, std::vector<AnswerChunk> chunks) {
    for (auto& c : chunks) co_await sink.accept(c);
}

// Reads the request and decodes its choices, one after another, on a compute thread.
void decode(const std::shared_ptr<DecodeJob>& job, const std::shared_ptr<engine::Engine>& engine, const core::Query& query,
            const core::Json& defaults, bool need_logprobs, bool streaming) {
    auto deliver = [&job](auto fn) { asio::post(job->wake.get_executor(), [job, fn = std::move(fn)]() mutable { fn(*job); job->wake.cancel(); }); };
    try {
        if (job->stop.stop_requested()) throw boost::system::system_error(asio::error::operation_aborted);
        LocalRequest request = read_local_request(engine->model(), query, defaults, need_logprobs);
        const int n = request.n;
        const engine::GenerationRequest generation = request.generation;
        deliver([request = std::move(request)](DecodeJob& j) mutable { j.request = std::move(request); });
        for (int choice = 0; choice < n && !job->stop.stop_requested(); ++choice) {
            engine::TokenCallback on_token;
            if (streaming) {
                on_token = [&deliver, choice](const core::TokenLogprob& t) {
                    deliver([choice, t](DecodeJob& j) { j.events.push_back({choice, t, std::nullopt}); });
                    return true;
                };
            }
            engine::Generation g = engine->generate(generation, on_token, job->stop.get_token());
            deliver([choice, g = std::move(g)](DecodeJob& j) mutable { j.events.push_back({choice, std::nullopt, std::move(g)}); });
        }
        deliver([](DecodeJob& j) { j.finished = true; });
    } catch (...) {
        deliver([e = std::current_exception()](DecodeJob& j) {
            j.error = e;
            j.finished = true;
        });
    }
}

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
      slots_(options_.slots > 0 ? options_.slots : engine_->model().options().sequences),
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
        std::stop_callback on_shutdown(shutdown, [&job] { job->stop.request_stop(); });
        decode(job, engine, query, defaults, need, streaming);
    });

    std::optional<LocalAnswer> built;
    core::Answer answer;  // the first choice's, for hiro's decisions
    core::Usage usage;
    for (;;) {
        while (!job->events.empty()) {
            DecodeJob::Event e = std::move(job->events.front());
            job->events.pop_front();
            if (!built) built.emplace(query.endpoint, options_.name, job->request->parser, job->request->logprobs);
            if (e.token) {
                co_await send_all(*options.stream, built->token(e.choice, *e.token));
                continue;
            }
            core::Answer& generated = e.done->answer;
            auto chunks = built->finish_choice(e.choice, generated);
            if (streaming) co_await send_all(*options.stream, std::move(chunks));
            usage.prompt_tokens = generated.usage.prompt_tokens;
            usage.completion_tokens += generated.usage.completion_tokens;
            if (e.choice == 0) answer = std::move(generated);
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
    answer.text = built->first_text();
    answer.usage = usage;
    if (options_.price) answer.cost_usd = options_.price->cost(usage.prompt_tokens, usage.completion_tokens);
    answer.energy_j = options_.joules_per_token * static_cast<double>(usage.prompt_tokens + usage.completion_tokens) +
                      options_.watts * answer.latency_ms / 1000.0;
    if (streaming) {
        AnswerChunk last = built->usage_chunk(usage);
        co_await options.stream->accept(last);
    } else {
        answer.response = built->body(usage);
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
