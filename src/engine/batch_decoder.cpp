#include "engine/batch_decoder.h"

#include <algorithm>
#include <exception>

#include "core/error.h"

namespace hiro::engine {
namespace {

// How long a request ready to decode waits for the others still sampling
// before it decodes without them: long enough for any vocabulary's sampling
// on a busy machine, short beside a token's decode at real model sizes.
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
}

std::optional<BatchDecoder::Sequence> BatchDecoder::acquire(std::span<const Token> prompt, std::stop_token stop, bool reuse) {
    std::unique_lock lock(mutex_);
    // The cache changes only between steps.
    const auto free_slot = [&] {
        return !stepping_ && std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::free; });
    };
    if (!changed_.wait(lock, stop, free_slot)) return std::nullopt;
    if (ctx_ == nullptr) create_context();
    int best = -1;
    std::size_t best_shared = 0;
    for (int i = 0; i < static_cast<int>(slots_.size()); ++i) {
        const Slot& s = slots_[static_cast<std::size_t>(i)];
        if (s.state != State::free) continue;
        const std::size_t shared = reuse ? common_prefix(s.cached, prompt) : 0;
        if (best < 0 || shared > best_shared || (shared == best_shared && s.last_used < slots_[static_cast<std::size_t>(best)].last_used)) {
            best = i;
            best_shared = shared;
        }
    }
    Slot& s = slots_[static_cast<std::size_t>(best)];
    // At least the prompt's last token is decoded again: its logits start the answer.
    const std::size_t keep = std::min(best_shared, prompt.empty() ? 0 : prompt.size() - 1);
    llama_memory_t memory = llama_get_memory(ctx_);
    if (keep < s.cached.size() && (memory == nullptr || !llama_memory_seq_rm(memory, best, static_cast<llama_pos>(keep), -1))) {
        clear(s, best);
    } else {
        s.cached.resize(keep);
    }
    s.reused = static_cast<int>(s.cached.size());
    s.state = State::busy;
    return Sequence(*this, best);
}

void BatchDecoder::clear(Slot& slot, int id) {
    if (llama_memory_t memory = llama_get_memory(ctx_)) llama_memory_seq_rm(memory, id, -1, -1);
    slot.cached.clear();
}

bool BatchDecoder::can_lead(Clock::time_point deadline) const {
    if (stepping_ || readers_ > 0) return false;
    return Clock::now() >= deadline || std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::busy; });
}

BatchDecoder::Outcome BatchDecoder::decode(int id, std::span<const Token> tokens, std::stop_token stop, const LogitsReader& read) {
    std::unique_lock lock(mutex_);
    Slot& s = slots_[static_cast<std::size_t>(id)];
    s.tokens = tokens;
    s.submitted = 0;
    s.stop = stop;
    s.state = State::pending;
    changed_.notify_all();
    const auto deadline = Clock::now() + grace;
    const auto woken = [&] { return s.state == State::ready || s.state == State::failed || (s.state == State::pending && can_lead(deadline)); };
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
            --readers_;
            changed_.notify_all();
            if (failure) std::rethrow_exception(failure);
            return Outcome::decoded;
        }
        if (s.state == State::failed) {
            s.state = State::busy;
            if (stop.stop_requested()) return Outcome::stopped;  // the step was aborted for it
            throw core::Error(core::ErrorCode::internal, "llama_decode failed on a batch of " + std::to_string(slots_.size()) + " sequences");
        }
        if (stop.stop_requested()) {
            if (s.state == State::decoding) {
                s.state = State::abandoned;  // the running step's leader frees the slot
                return Outcome::abandoned;
            }
            s.state = State::busy;
            return Outcome::stopped;
        }
        if (s.state == State::pending && can_lead(deadline)) {
            step(lock);
            continue;
        }
        if (Clock::now() < deadline) changed_.wait_until(lock, stop, deadline, woken);
        else changed_.wait(lock, stop, woken);
    }
}

// Generating sequences' single tokens go first, then prompts fill what is
// left of the logical batch; a prompt that does not fit continues next step.
void BatchDecoder::step(std::unique_lock<std::mutex>& lock) {
    stepping_ = true;
    struct Part {
        int id;
        std::size_t count;
    };
    std::vector<Part> parts;
    batch_.n_tokens = 0;
    batch_stops_.clear();
    const int budget = model_.options().batch;
    for (const bool singles : {true, false}) {
        for (int id = 0; id < static_cast<int>(slots_.size()) && batch_.n_tokens < budget; ++id) {
            Slot& s = slots_[static_cast<std::size_t>(id)];
            const std::size_t remaining = s.tokens.size() - s.submitted;
            if (s.state != State::pending || (remaining == 1) != singles) continue;
            const std::size_t n = std::min(remaining, static_cast<std::size_t>(budget - batch_.n_tokens));
            for (std::size_t k = 0; k < n; ++k) {
                const int at = batch_.n_tokens++;
                batch_.token[at] = s.tokens[s.submitted + k];
                batch_.pos[at] = static_cast<llama_pos>(s.cached.size() + k);
                batch_.n_seq_id[at] = 1;
                batch_.seq_id[at][0] = id;
                batch_.logits[at] = s.submitted + k + 1 == s.tokens.size();
                if (batch_.logits[at]) s.logits_index = at;
            }
            s.state = State::decoding;
            batch_stops_.push_back(s.stop);
            parts.push_back({id, n});
        }
    }
    lock.unlock();
    const int32_t rc = llama_decode(ctx_, batch_);
    llama_synchronize(ctx_);
    lock.lock();
    for (const Part& p : parts) {
        Slot& s = slots_[static_cast<std::size_t>(p.id)];
        if (s.state == State::abandoned || rc != 0) {
            clear(s, p.id);  // a failed step leaves part of its tokens in the cache
            s.state = s.state == State::abandoned ? State::free : State::failed;
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
    changed_.notify_all();
}

// llama_decode's abort callback, polled between graph nodes: a step is
// abandoned only when every request in it was cancelled.
bool BatchDecoder::all_stopped(void* decoder) {
    const auto& stops = static_cast<const BatchDecoder*>(decoder)->batch_stops_;
    return !stops.empty() && std::all_of(stops.begin(), stops.end(), [](const std::stop_token& s) { return s.stop_requested(); });
}

void BatchDecoder::release(int id, bool keep_cache) {
    std::unique_lock lock(mutex_);
    Slot& s = slots_[static_cast<std::size_t>(id)];
    if (!keep_cache || s.state == State::failed) {
        changed_.wait(lock, [&] { return !stepping_; });  // the cache changes only between steps
        clear(s, id);
    }
    s.state = State::free;
    s.last_used = ++uses_;
    changed_.notify_all();
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
