#include "engine/model.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "engine/llama_backend.h"

namespace hiro::engine {
namespace {

constexpr int default_context_cap = 4096;  // a context per request: keep each one small unless asked

// Why a file llama.cpp refused cannot be loaded, as precisely as hiro can tell.
[[noreturn]] void explain_load_failure(const std::string& path) {
    if (!std::filesystem::is_regular_file(path)) {
        throw core::Error(core::ErrorCode::not_found, "model file " + path + " does not exist (give the path of a .gguf file)");
    }
    std::array<char, 4> magic{};
    std::ifstream(path, std::ios::binary).read(magic.data(), magic.size());
    if (std::string_view(magic.data(), magic.size()) != "GGUF") {
        throw core::Error(core::ErrorCode::invalid_input,
                          path + " is not a GGUF model (it does not start with the GGUF magic); convert it with "
                                 "llama.cpp's convert_hf_to_gguf.py or download a .gguf file");
    }
    throw core::Error(core::ErrorCode::unsupported,
                      "llama.cpp could not load " + path + " (truncated file or unsupported architecture; run with -v for details)");
}

}  // namespace

Model::Model(ModelOptions options) : options_(std::move(options)) {
    ensure_llama_backend();
    if (!std::filesystem::is_regular_file(options_.path)) explain_load_failure(options_.path);
    if (options_.threads <= 0) options_.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    llama_model_params params = llama_model_default_params();
    params.load_mode = options_.mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    const auto start = std::chrono::steady_clock::now();
    model_ = llama_model_load_from_file(options_.path.c_str(), params);
    load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (model_ == nullptr) explain_load_failure(options_.path);
    vocab_ = llama_model_get_vocab(model_);
    const int trained = llama_model_n_ctx_train(model_);
    context_ = options_.context > 0 ? options_.context : std::min(trained > 0 ? trained : default_context_cap, default_context_cap);
    chat_template_ = std::make_unique<ChatTemplate>(model_, options_.path);
}

Model::~Model() {
    chat_template_.reset();
    if (model_ != nullptr) llama_model_free(model_);
}

Token Model::start_token() const { return llama_vocab_get_add_bos(vocab_) ? llama_vocab_bos(vocab_) : 0; }

int Model::vocab_size() const { return llama_vocab_n_tokens(vocab_); }

std::string Model::description() const {
    std::array<char, 256> buf{};
    llama_model_desc(model_, buf.data(), buf.size());
    return buf.data();
}

std::uint64_t Model::size_bytes() const { return llama_model_size(model_); }
std::uint64_t Model::parameters() const { return llama_model_n_params(model_); }

std::vector<Token> Model::tokenize(std::string_view text, bool add_special) const {
    const auto length = static_cast<int32_t>(text.size());
    std::vector<Token> tokens(text.size() + 2);
    int32_t n = llama_tokenize(vocab_, text.data(), length, tokens.data(), static_cast<int32_t>(tokens.size()), add_special, true);
    if (n < 0) {
        tokens.resize(static_cast<std::size_t>(-n));
        n = llama_tokenize(vocab_, text.data(), length, tokens.data(), static_cast<int32_t>(tokens.size()), add_special, true);
    }
    if (n < 0) throw core::Error(core::ErrorCode::invalid_input, "the prompt cannot be tokenized (too long)");
    tokens.resize(static_cast<std::size_t>(n));
    return tokens;
}

std::string Model::piece(Token token) const {
    std::array<char, 128> buf{};
    int32_t n = llama_token_to_piece(vocab_, token, buf.data(), static_cast<int32_t>(buf.size()), 0, false);
    if (n >= 0) return std::string(buf.data(), static_cast<std::size_t>(n));
    std::string big(static_cast<std::size_t>(-n), '\0');
    n = llama_token_to_piece(vocab_, token, big.data(), static_cast<int32_t>(big.size()), 0, false);
    big.resize(static_cast<std::size_t>(std::max(n, 0)));
    return big;
}

bool Model::ends_generation(Token token) const { return llama_vocab_is_eog(vocab_, token); }

std::string Model::format_chat(const std::vector<core::ChatMessage>& messages) const { return chat_template_->apply(messages); }

std::vector<Token> Model::chat_tokens(const std::vector<core::ChatMessage>& messages) const { return tokenize(format_chat(messages), true); }

}  // namespace hiro::engine
