#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include <sampling.h>

#include "core/error.h"
#include "engine/token_scores.h"

namespace hiro::engine {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

struct SamplerDeleter {
    void operator()(common_sampler* s) const { common_sampler_free(s); }
};
using Sampler = std::unique_ptr<common_sampler, SamplerDeleter>;

// llama-server's sampler (llama-common's chain), so that the same request and
// seed sample the same tokens here and there.
Sampler make_sampler(const llama_model* model, const GenerationRequest& request) {
    common_params_sampling params = request.sampling ? *request.sampling : simple_sampling(request.params);
    try {
        return Sampler(common_sampler_init(model, params));
    } catch (const std::exception& e) {
        throw core::Error(core::ErrorCode::invalid_input, std::string("the grammar does not parse: ") + e.what());
    }
}

// Where the earliest stop string starts in `text`, looking only at what the
// last piece could have completed.
std::size_t find_stop(const std::string& text, std::size_t piece_size, const std::vector<std::string>& stops) {
    std::size_t found = std::string::npos;
    for (const auto& s : stops) {
        if (s.empty()) continue;
        const std::size_t from = text.size() >= s.size() + piece_size ? text.size() - s.size() - piece_size : 0;
        found = std::min(found, text.find(s, from));
    }
    return found;
}

// How many trailing bytes of `text` could be the start of a stop string: they
// are held back from the stream until the next token settles it.
std::size_t partial_stop(const std::string& text, const std::vector<std::string>& stops) {
    std::size_t held = 0;
    for (const auto& s : stops) {
        if (s.empty()) continue;
        for (std::size_t n = std::min(s.size() - 1, text.size()); n > held; --n) {
            if (text.compare(text.size() - n, n, s, 0, n) == 0) {
                held = n;
                break;
            }
        }
    }
    return held;
}

}  // namespace

common_params_sampling simple_sampling(const core::GenerationParams& p) {
    common_params_sampling s;
    s.temp = static_cast<float>(p.temperature);
    s.top_p = static_cast<float>(p.top_p);
    s.seed = p.seed;
    s.top_k = 0;    // off
    s.min_p = 0.0f;  // off
    return s;
}

void Engine::warm_up() {
    const Token token = model_.start_token();
    std::optional<BatchDecoder::Sequence> sequence = decoder_.acquire({&token, 1}, {}, false);
    sequence->forget();  // the first request must not find the warm-up token cached
    sequence->decode({&token, 1}, {}, [](llama_context*, int) {});
}

Generation Engine::generate(const GenerationRequest& request, const TokenCallback& on_token, std::stop_token stop) {
    const auto start = Clock::now();
    const auto& prompt = request.prompt;
    const int n_ctx = model_.context();
    if (prompt.empty()) throw core::Error(core::ErrorCode::invalid_input, "the prompt is empty: give at least one token of text");
    if (static_cast<int>(prompt.size()) >= n_ctx) {
        throw core::Error(core::ErrorCode::invalid_input,
                          "the prompt has " + std::to_string(prompt.size()) + " tokens but the context holds " + std::to_string(n_ctx) +
                              " (prompt and answer together); shorten the prompt or raise the context size");
    }
    // Greedy with the simple parameters is the most likely token: no sampler
    // chain, whose passes over the vocabulary cost a 0.5B model with 150K
    // tokens ~5% of its generation speed. The chain picks the same token.
    const bool greedy = !request.sampling && request.params.temperature <= 0.0;
    Sampler sampler = greedy ? nullptr : make_sampler(model_.get(), request);  // before any decoding: a grammar that does not parse fails fast
    // As llama-server: the prompt is history for the penalties (not for a grammar).
    if (sampler) {
        for (const Token t : prompt) common_sampler_accept(sampler.get(), t, false);
    }

    Generation g;
    core::Answer& a = g.answer;
    a.usage.prompt_tokens = static_cast<std::int64_t>(prompt.size());
    a.finish_reason = "length";
    std::size_t streamed = 0;            // tokens passed to on_token so far
    std::vector<std::size_t> token_end;  // where each token's text ends in a.text
    // Streams the tokens whose text ends at or before `safe`; false when the sink declines more.
    auto stream_until = [&](std::size_t safe) {
        for (; streamed < a.tokens.size() && token_end[streamed] <= safe; ++streamed) {
            if (on_token && !on_token(a.tokens[streamed])) return false;
        }
        return true;
    };
    bool ended = false;  // the model's end-of-generation token was sampled: generated, so counted, but not text
    auto finish = [&](const char* reason) {
        if (std::string_view(reason) != "cancelled") stream_until(a.text.size());
        a.finish_reason = reason;
        a.usage.completion_tokens = static_cast<std::int64_t>(a.tokens.size()) + (ended ? 1 : 0);
        a.latency_ms = ms_since(start);
        return std::move(g);
    };
    std::optional<BatchDecoder::Sequence> sequence = decoder_.acquire(prompt, stop, request.cache_prompt);
    if (!sequence) return finish("cancelled");
    if (!request.cache_prompt) sequence->forget();
    g.prompt_tokens_reused = sequence->reused();
    // Sampling and scoring read the logits while the batch's other requests read theirs.
    Token token = 0;
    core::TokenLogprob scored;
    const auto read = [&](llama_context* ctx, int index) {
        const float* logits = llama_get_logits_ith(ctx, index);
        if (greedy) {
            token = static_cast<Token>(std::max_element(logits, logits + model_.vocab_size()) - logits);
        } else {
            token = common_sampler_sample(sampler.get(), ctx, index);
            common_sampler_accept(sampler.get(), token, true);
        }
        if (!model_.ends_generation(token) || request.ignore_end_of_generation) {
            scored = score_token(model_, logits, token, request.params.top_logprobs);
        }
    };
    if (!sequence->decode(std::span(prompt).subspan(static_cast<std::size_t>(sequence->reused())), stop, read)) return finish("cancelled");
    g.prompt_ms = ms_since(start);

    int position = static_cast<int>(prompt.size());
    // No max_tokens: until the model stops or the context is full, as llama-server.
    const int max_tokens = request.params.max_tokens < 0 ? n_ctx : request.params.max_tokens;
    for (int i = 0; i < max_tokens; ++i) {
        if (stop.stop_requested()) return finish("cancelled");
        if (model_.ends_generation(token) && !request.ignore_end_of_generation) {
            ended = true;
            return finish("stop");
        }
        a.text += scored.text;
        a.tokens.push_back(std::move(scored));
        token_end.push_back(a.text.size());
        g.token_ms.push_back(ms_since(start));
        if (i == 0) a.ttft_ms = g.token_ms.back();
        const std::size_t stop_at = find_stop(a.text, a.tokens.back().text.size(), request.params.stop);
        if (stop_at != std::string::npos) {
            stream_until(stop_at);
            a.text.resize(stop_at);
            return finish("stop");
        }
        if (!stream_until(a.text.size() - partial_stop(a.text, request.params.stop))) return finish("cancelled");
        if (i + 1 == max_tokens) break;
        if (++position > n_ctx) return finish("length");  // the context is full
        const Token next = token;
        if (!sequence->decode({&next, 1}, stop, read)) return finish("cancelled");
    }
    return finish("length");
}

}  // namespace hiro::engine
