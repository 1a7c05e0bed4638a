// Engine::embed: a pooled embedding context, cleared after each text.
#include "core/error.h"
#include "engine/engine.h"

namespace hiro::engine {

std::vector<float> Engine::embed(std::string_view text) const {
    std::vector<Token> tokens = model_.tokenize(text, true);
    if (tokens.empty()) throw core::Error(core::ErrorCode::invalid_input, "cannot embed an empty text");
    // As sentence embedders do, a text longer than the context is embedded by
    // its first tokens.
    if (tokens.size() > static_cast<std::size_t>(model_.context())) tokens.resize(static_cast<std::size_t>(model_.context()));
    ContextPool::Lease lease = embedding_contexts_.acquire();
    llama_batch batch = llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size()));
    const int32_t rc = llama_model_has_decoder(model_.get()) ? llama_decode(lease.get(), batch) : llama_encode(lease.get(), batch);
    if (rc != 0) throw core::Error(core::ErrorCode::internal, "llama.cpp failed to embed the text (code " + std::to_string(rc) + ")");
    const float* pooled = llama_get_embeddings_seq(lease.get(), 0);
    if (pooled == nullptr) throw core::Error(core::ErrorCode::unsupported, model_.options().path + " returns no pooled embedding");
    return std::vector<float>(pooled, pooled + embedding_size());
}

std::size_t Engine::embedding_size() const { return static_cast<std::size_t>(llama_model_n_embd_out(model_.get())); }

}  // namespace hiro::engine
