#include "engine/batch_decoder.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <utility>

#include "core/error.h"

namespace hiro::engine {
namespace {

// How long a step waits for a request that has just read its logits (or
// taken its slot) to ask for its next token: long enough for any
// vocabulary's sampling on a busy machine, short beside a token's decode at
// real model sizes.
constexpr std::chrono::milliseconds grace{20};

std::size_t common_prefix(const std::vector<Token>& a, std::span<const Token> b) {
    const auto n = std::min(a.size(), b.size());
    return static_cast<std::size_t>(std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin()).first - a.begin());
}

}  // namespace

BatchDecoder::BatchDecoder(const Model& model, int sequences)
    : model_(model), batch_(llama_batch_init(model.options().batch, 0, 1)), slots_(static_cast<std::size_t>(std::max(1, sequences))) {}

BatchDecoder::~BatchDecoder() {
    llama_batch_free(batch_);
    if (ctx_ != nullptr) llama_free(ctx_);
    if (threads_ != nullptr) ggml_threadpool_free(threads_);
}

// Created on first use, so that an engine used only for embeddings never
// holds a generation context. Each context keeps its own CPU threadpool, as
// llama-bench and llama-server do: without one, ggml starts and joins fresh
// threads for every decoded token.
void BatchDecoder::create_context() {
    const ModelOptions& o = model_.options();
    llama_context_params params = llama_context_default_params();
    params.n_seq_max = static_cast<uint32_t>(slots_.size());
    params.n_ctx = static_cast<uint32_t>(model_.context()) * params.n_seq_max;  // each sequence gets a whole context
    params.n_batch = static_cast<uint32_t>(o.batch);
    params.n_ubatch = static_cast<uint32_t>(o.ubatch);
    params.n_threads = params.n_threads_batch = o.threads;
    params.no_perf = true;
    ctx_ = llama_init_from_model(model_.get(), params);
    if (ctx_ == nullptr) {
        throw core::Error(core::ErrorCode::unsupported, "llama.cpp could not create a context of " + std::to_string(slots_.size()) + " x " +
                                                            std::to_string(model_.context()) + " tokens for " + o.path +
                                                            " (out of memory? try a smaller context size or fewer parallel sequences)");
    }
    ggml_threadpool_params threads = ggml_threadpool_params_default(o.threads);
    threads_ = ggml_threadpool_new(&threads);
    if (threads_ == nullptr) throw core::Error(core::ErrorCode::internal, "cannot start a threadpool of " + std::to_string(o.threads) + " threads");
    llama_attach_threadpool(ctx_, threads_, nullptr);
    llama_set_abort_callback(ctx_, all_stopped, this);
    // llama.h: only a recurrent memory cannot drop part of a sequence.
    partial_trim_ = llama_get_memory(ctx_) != nullptr && !llama_model_is_recurrent(model_.get()) && !llama_model_is_hybrid(model_.get());
}

std::optional<BatchDecoder::Sequence> BatchDecoder::acquire(std::span<const Token> prompt, std::stop_token stop, bool reuse) {
    std::unique_lock lock(mutex_);
    const auto free_slot = [&] { return std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::free; }); };
    if (!freed_.wait(lock, stop, free_slot)) return std::nullopt;
    if (ctx_ == nullptr) create_context();
    // The longest shared prefix; among equals an empty cache (nothing is
    // lost), the lowest first, so that busy sequences keep neighbouring ids
    // (llama.cpp splits a step at a gap between ids: another pass over the
    // weights); else the least recently used.
    int best = -1;
    std::size_t best_shared = 0;
    const auto better = [&](const Slot& s, std::size_t shared) {
        const Slot& b = slots_[static_cast<std::size_t>(best)];
        if (shared != best_shared) return shared > best_shared;
        if (s.cached.empty() != b.cached.empty()) return s.cached.empty();
        return !s.cached.empty() && s.last_used < b.last_used;
    };
    for (int i = 0; i < static_cast<int>(slots_.size()); ++i) {
        const Slot& s = slots_[static_cast<std::size_t>(i)];
        if (s.state != State::free) continue;
        const std::size_t shared = reuse && partial_trim_ ? common_prefix(s.cached, prompt) : 0;
        if (best < 0 || better(s, shared)) {
            best = i;
            best_shared = shared;
        }
    }
    Slot& s = slots_[static_cast<std::size_t>(best)];
    // At least the prompt's last token is decoded again: its logits start the answer.
    const std::size_t keep = std::min(best_shared, prompt.empty() ? 0 : prompt.size() - 1);
    if (keep < s.cached.size()) {
        s.cached.resize(keep);
        s.trim = keep;
    }
    s.reused = static_cast<int>(keep);
    s.state = State::busy;
    s.due = Clock::now() + grace;
    return Sequence(*this, best);
}

// Drops what the slots gave up since the last step; only the leader calls
// it, before it decodes. A whole sequence's removal never fails (llama.h);
// a tail's can only where acquire() does not reuse prefixes.
void BatchDecoder::apply_trims() {
    llama_memory_t memory = llama_get_memory(ctx_);
    for (int id = 0; id < static_cast<int>(slots_.size()); ++id) {
        Slot& s = slots_[static_cast<std::size_t>(id)];
        if (!s.trim) continue;
        const llama_pos from = *s.trim == 0 ? -1 : static_cast<llama_pos>(*s.trim);
        s.trim.reset();
        if (memory == nullptr || llama_memory_seq_rm(memory, id, from, -1)) continue;
        llama_memory_seq_rm(memory, id, -1, -1);
        s.cached.clear();
        if (s.state == State::free) continue;  // nobody counts on its prefix
        s.failure = "llama.cpp could not drop the end of sequence " + std::to_string(id) + "'s cache to reuse its prefix";
        if (s.state == State::pending) s.state = State::failed;
    }
}

// When a pending request may lead the next step: none while a step runs or
// its logits are being read; else once every busy slot is past its grace.
std::optional<BatchDecoder::Clock::time_point> BatchDecoder::lead_after() const {
    if (stepping_ || readers_ > 0) return std::nullopt;
    Clock::time_point after{};
    for (const Slot& s : slots_) {
        if (s.state == State::busy) after = std::max(after, s.due);
    }
    return after;
}

BatchDecoder::Outcome BatchDecoder::decode(int id, std::span<const Token> tokens, std::stop_token stop, const LogitsReader& read) {
    std::unique_lock lock(mutex_);
    Slot& s = slots_[static_cast<std::size_t>(id)];
    s.tokens = tokens;
    s.submitted = 0;
    s.stop = stop;
    // Nobody is woken: if this was the last request the step waited for, it leads it itself.
    s.state = s.failure.empty() ? State::pending : State::failed;
    s.signalled = false;
    bool yielded = false;
    // Every wake-up goes round the loop: what the request waits for is worked out again.
    const auto woken = [&] { return std::exchange(s.signalled, false) || s.state == State::ready || s.state == State::failed; };
    for (;;) {
        if (s.state == State::ready) {
            lock.unlock();
            std::exception_ptr failure;
            try {
                read(ctx_, s.logits_index);
            } catch (...) {
                failure = std::current_exception();
            }
            lock.lock();
            s.state = State::busy;
            s.due = Clock::now() + grace;
            if (--readers_ == 0) wake_a_leader();
            if (failure) std::rethrow_exception(failure);
            return Outcome::decoded;
        }
        if (s.state == State::failed) {
            s.state = State::busy;
            if (stop.stop_requested()) return Outcome::stopped;  // the step was aborted for it
            throw core::Error(core::ErrorCode::internal, s.failure);
        }
        if (stop.stop_requested()) {
            if (s.state == State::decoding) {
                s.state = State::abandoned;  // the running step's leader frees the slot
                return Outcome::abandoned;
            }
            s.state = State::busy;
            return Outcome::stopped;
        }
        const auto after = s.state == State::pending ? lead_after() : std::nullopt;
        if (after && Clock::now() >= *after) {
            // A step of prompts alone starts from idle: requests arriving at
            // the same moment get one chance to join it (else the first runs
            // a step ahead to the end, and each step of its lead decodes
            // fewer sequences).
            if (!yielded && only_prompts_pending()) {
                yielded = true;
                lock.unlock();
                std::this_thread::yield();
                lock.lock();
                continue;
            }
            step(lock);
            continue;
        }
        if (after) s.wake.wait_until(lock, stop, *after, woken);
        else s.wake.wait(lock, stop, woken);
    }
}

// A pending request, to lead the next step once the slots it waits for are
// back (each of them leads it itself if it is the last).
void BatchDecoder::wake_a_leader() {
    const auto pending = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::pending; });
    if (pending != slots_.end()) signal(*pending);
}

void BatchDecoder::signal(Slot& slot) {
    slot.signalled = true;
    slot.wake.notify_one();
}

bool BatchDecoder::only_prompts_pending() const {
    return std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::pending && s.tokens.size() - s.submitted == 1; });
}

// Generating sequences' single tokens are taken first, then prompts fill
// what is left of the logical batch; a prompt that does not fit continues
// next step. The batch lists them by sequence id: llama.cpp cuts a batch of
// separate sequences into micro-batches of consecutive ids.
void BatchDecoder::step(std::unique_lock<std::mutex>& lock) {
    stepping_ = true;
    apply_trims();
    struct Part {
        int id;
        std::size_t count;
    };
    std::vector<Part> parts;
    const int budget = model_.options().batch;
    int taken = 0;
    for (const bool singles : {true, false}) {
        for (int id = 0; id < static_cast<int>(slots_.size()) && taken < budget; ++id) {
            const Slot& s = slots_[static_cast<std::size_t>(id)];
            const std::size_t remaining = s.tokens.size() - s.submitted;
            if (s.state != State::pending || (remaining == 1) != singles) continue;
            parts.push_back({id, std::min(remaining, static_cast<std::size_t>(budget - taken))});
            taken += static_cast<int>(parts.back().count);
        }
    }
    std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.id < b.id; });
    batch_.n_tokens = 0;
    batch_stops_.clear();
    for (const Part& p : parts) {
        Slot& s = slots_[static_cast<std::size_t>(p.id)];
        for (std::size_t k = 0; k < p.count; ++k) {
            const int at = batch_.n_tokens++;
            batch_.token[at] = s.tokens[s.submitted + k];
            batch_.pos[at] = static_cast<llama_pos>(s.cached.size() + k);
            batch_.n_seq_id[at] = 1;
            batch_.seq_id[at][0] = p.id;
            batch_.logits[at] = s.submitted + k + 1 == s.tokens.size();
            if (batch_.logits[at]) s.logits_index = at;
        }
        s.state = State::decoding;
        batch_stops_.push_back(s.stop);
    }
    lock.unlock();
    const int32_t rc = llama_decode(ctx_, batch_);
    llama_synchronize(ctx_);
    lock.lock();
    for (const Part& p : parts) {
        Slot& s = slots_[static_cast<std::size_t>(p.id)];
        if (s.state == State::abandoned || rc != 0) {
            s.cached.clear();  // a failed step leaves part of its tokens in the cache
            s.trim = 0;
            if (s.state == State::abandoned) {
                s.state = State::free;
            } else {
                s.state = State::failed;
                s.failure = "llama_decode failed on a batch of " + std::to_string(parts.size()) + " sequences";
            }
            continue;
        }
        s.cached.insert(s.cached.end(), s.tokens.begin() + static_cast<std::ptrdiff_t>(s.submitted),
                        s.tokens.begin() + static_cast<std::ptrdiff_t>(s.submitted + p.count));
        s.submitted += p.count;
        if (s.submitted < s.tokens.size()) {
            s.state = State::pending;
        } else {
            s.state = State::ready;
            ++readers_;
        }
    }
    stepping_ = false;
    // Each request whose state the step changed, and those that came while it ran.
    for (Slot& s : slots_) {
        if (s.state == State::pending || s.state == State::ready || s.state == State::failed) signal(s);
    }
    freed_.notify_all();  // abandoned slots are free
}

// llama_decode's abort callback, polled between graph nodes: a step is
// abandoned only when every request in it was cancelled.
bool BatchDecoder::all_stopped(void* decoder) {
    const auto& stops = static_cast<const BatchDecoder*>(decoder)->batch_stops_;
    return !stops.empty() && std::all_of(stops.begin(), stops.end(), [](const std::stop_token& s) { return s.stop_requested(); });
}

void BatchDecoder::release(int id, bool keep_cache) {
    std::lock_guard lock(mutex_);
    Slot& s = slots_[static_cast<std::size_t>(id)];
    if (!keep_cache || s.state == State::failed) {
        s.cached.clear();
        s.trim = 0;
    }
    s.state = State::free;
    s.failure.clear();
    s.last_used = ++uses_;
    freed_.notify_all();  // one is enough, unless it was cancelled meanwhile
    if (readers_ == 0) wake_a_leader();  // a step may have been waiting for this slot
}

BatchDecoder::Sequence::~Sequence() {
    if (decoder_ != nullptr) decoder_->release(slot_, keep_cache_);
}

int BatchDecoder::Sequence::reused() const {
    std::lock_guard lock(decoder_->mutex_);
    return decoder_->slots_[static_cast<std::size_t>(slot_)].reused;
}

bool BatchDecoder::Sequence::decode(std::span<const Token> tokens, std::stop_token stop, const LogitsReader& read) {
    const Outcome outcome = decoder_->decode(slot_, tokens, std::move(stop), read);
    if (outcome == Outcome::abandoned) decoder_ = nullptr;  // no longer ours: the step's leader frees it
    return outcome == Outcome::decoded;
}

}  // namespace hiro::engine
