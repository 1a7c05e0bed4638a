#pragma once

#include <ggml-cpu.h>
#include <llama.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/model.h"

namespace hiro::engine {

// Every request's tokens decoded together: one llama.cpp context holding one
// KV sequence per request in flight (as llama-server's slots), so a decode
// step reads the weights once for all of them, which is what makes
// concurrency pay at real model sizes (memory-bound: a 1B model at 4
// requests decodes ~3x the tokens per second of one request).
//
// There is no decoding thread: a request waiting for its tokens' logits leads
// the next step itself once no other request is still sampling (each is
// waited for a short grace after it read its logits or took its slot, so
// that a slow client cannot stall the rest), so one request alone decodes on
// its own thread with no hand-off. Requests read their logits (sample, score)
// in parallel between steps. A request arriving during a step takes its slot
// at once and joins the next step; requests arriving together at an idle
// decoder share its first step. A cancelled request returns at once; the
// step it was part of finishes without it.
//
// A finished request's sequence keeps its KV cache, and the next request is
// given the free slot whose cached tokens share the longest prefix with its
// prompt (a shared system prompt is decoded once, as llama-server's
// cache_prompt). The cache changes only between steps: what a slot drops is
// removed by the next step's leader before it decodes.
class BatchDecoder {
public:
    BatchDecoder(const Model& model, int sequences);
    ~BatchDecoder();
    BatchDecoder(const BatchDecoder&) = delete;
    BatchDecoder& operator=(const BatchDecoder&) = delete;

    // Reads the logits of a sequence's last decoded token: the context and
    // that token's index in the batch (for llama_get_logits_ith and samplers).
    using LogitsReader = std::function<void(llama_context*, int)>;

    // One request's KV sequence; its slot is freed (and its cache kept for
    // the next request) on destruction.
    class Sequence {
    public:
        Sequence(BatchDecoder& decoder, int slot) : decoder_(&decoder), slot_(slot) {}
        ~Sequence();
        Sequence(Sequence&& other) noexcept : decoder_(other.decoder_), slot_(other.slot_), keep_cache_(other.keep_cache_) {
            other.decoder_ = nullptr;
        }
        Sequence(const Sequence&) = delete;
        Sequence& operator=(const Sequence&) = delete;
        Sequence& operator=(Sequence&&) = delete;

        // How many leading tokens of the prompt are already in the cache: decode the rest.
        int reused() const;
        // Decodes `tokens` after what the sequence holds, in the next step
        // (prompts longer than the logical batch over several), then calls
        // `read` with the last token's logits. False when `stop` was
        // requested first. Throws an internal Error when llama.cpp fails.
        bool decode(std::span<const Token> tokens, std::stop_token stop, const LogitsReader& read);
        // Drop the cache on release: nothing of this sequence is reused.
        void forget() { keep_cache_ = false; }

    private:
        BatchDecoder* decoder_;
        int slot_;
        bool keep_cache_ = true;
    };

    // Waits for a free slot (none: `stop` was requested first) and prepares
    // it for `prompt`, keeping the longest cached prefix when `reuse`.
    std::optional<Sequence> acquire(std::span<const Token> prompt, std::stop_token stop, bool reuse);

    int sequences() const { return static_cast<int>(slots_.size()); }

private:
    enum class State { free, busy, pending, decoding, ready, failed, abandoned };
    using Clock = std::chrono::steady_clock;
    struct Slot {
        State state = State::free;
        std::vector<Token> cached;       // tokens whose KV the sequence holds (once `trim` is applied)
        std::optional<std::size_t> trim; // the KV from this position on is to be removed before the next step
        int reused = 0;
        Clock::time_point due;           // a busy slot is waited for until then before a step goes without it
        std::string failure;             // why the state is `failed`
        std::condition_variable_any wake;  // its request waits here: each change wakes only whom it concerns
        bool signalled = false;            // something it waits for changed
        std::span<const Token> tokens;   // what decode() asked for
        std::size_t submitted = 0;       // of `tokens`, how many are in the cache or the running step
        int logits_index = -1;
        std::stop_token stop;
        std::uint64_t last_used = 0;
    };
    enum class Outcome { decoded, stopped, abandoned };

    void create_context();
    Outcome decode(int slot, std::span<const Token> tokens, std::stop_token stop, const LogitsReader& read);
    std::optional<Clock::time_point> lead_after() const;
    bool only_prompts_pending() const;
    static void signal(Slot& slot);
    void wake_a_leader();
    void step(std::unique_lock<std::mutex>& lock);
    void apply_trims();
    void release(int slot, bool keep_cache);
    static bool all_stopped(void* decoder);

    const Model& model_;
    llama_context* ctx_ = nullptr;
    ggml_threadpool* threads_ = nullptr;
    bool partial_trim_ = false;  // the memory can drop a sequence's tail (not recurrent): prefixes can be reused
    llama_batch batch_;
    std::mutex mutex_;
    std::condition_variable_any freed_;  // requests waiting for a free slot
    std::vector<Slot> slots_;
    bool stepping_ = false;
    int readers_ = 0;                      // sequences reading the last step's logits
    std::vector<std::stop_token> batch_stops_;  // of the running step, for the abort callback
    std::uint64_t uses_ = 0;
};

}  // namespace hiro::engine
