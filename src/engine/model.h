#pragma once

#include <llama.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/query.h"
#include "engine/chat_template.h"

namespace hiro::engine {

using Token = llama_token;

struct ModelOptions {
    std::string path;
    int context = 0;   // tokens per request; 0 = the model's training context, at most 4096
    int threads = 0;   // 0 = every hardware thread
    int sequences = 4; // requests decoded together in one batch (llama-server's -np)
    int batch = 2048;  // logical batch for prompt processing (llama.cpp's -b)
    int ubatch = 512;  // physical batch (llama.cpp's -ub)
    bool mmap = true;
};

// A GGUF model loaded once into memory (mmapped by default) and shared,
// read-only, by every request: libllama allows one model to serve many
// contexts on many threads at once.
class Model {
public:
    // Throws a not_found Error for a missing file, an invalid_input Error for a
    // file that is not GGUF, and an unsupported Error when llama.cpp cannot load it.
    explicit Model(ModelOptions options);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const ModelOptions& options() const { return options_; }
    llama_model* get() const { return model_; }
    const llama_vocab* vocab() const { return vocab_; }
    double load_ms() const { return load_ms_; }
    int context() const { return context_; }  // tokens each request may use
    int vocab_size() const;
    std::string description() const;  // e.g. "llama ?B all F32"
    std::uint64_t size_bytes() const;
    std::uint64_t parameters() const;

    std::vector<Token> tokenize(std::string_view text, bool add_special) const;
    std::string piece(Token token) const;  // the token's text; special tokens render empty, as in llama-server
    bool ends_generation(Token token) const;
    // A one-token prompt any model accepts (warm-up, benchmarks): BOS when the
    // model adds one, else token 0.
    Token start_token() const;

    // The text the model sees for chat messages: its own chat template (from
    // the GGUF metadata) rendered with llama.cpp's Jinja engine, or ChatML when
    // it has none.
    std::string format_chat(const std::vector<core::ChatMessage>& messages) const;
    const ChatTemplate& chat_template() const { return *chat_template_; }
    // The prompt's tokens for a chat: special tokens are parsed and BOS is
    // added when the model wants one, exactly as llama-server tokenizes a prompt
    // (tokenize(text, true) does the same for a raw prompt).
    std::vector<Token> chat_tokens(const std::vector<core::ChatMessage>& messages) const;

private:
    ModelOptions options_;
    llama_model* model_ = nullptr;
    const llama_vocab* vocab_ = nullptr;
    int context_ = 0;
    double load_ms_ = 0.0;
    std::unique_ptr<ChatTemplate> chat_template_;
};

}  // namespace hiro::engine
