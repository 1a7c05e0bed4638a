// Engine::embed: a throwaway context sized to the text, with embeddings on.
#include <memory>

#include "core/error.h"
#include "engine/engine.h"

namespace hiro::engine {
namespace {

struct ContextDeleter {
    void operator()(llama_context* c) const { llama_free(c); }
};
using Context = std::unique_ptr<llama_context, ContextDeleter>;

Context embedding_context(const Model& model, std::size_t tokens, enum llama_pooling_type pooling) {
    llama_context_params params = llama_context_default_params();
    // Pooling over a sequence needs the whole text in one batch.
    params.n_ctx = params.n_batch = params.n_ubatch = static_cast<uint32_t>(tokens);
    params.n_seq_max = 1;
    params.n_threads = params.n_threads_batch = model.options().threads;
    params.embeddings = true;
    params.pooling_type = pooling;
    params.no_perf = true;
    Context ctx(llama_init_from_model(model.get(), params));
    if (!ctx) throw core::Error(core::ErrorCode::unsupported, "llama.cpp could not create an embedding context for " + model.options().path);
    return ctx;
}

}  // namespace

std::vector<float> Engine::embed(std::string_view text) const {
    std::vector<Token> tokens = model_.tokenize(text, true);
    if (tokens.empty()) throw core::Error(core::ErrorCode::invalid_input, "cannot embed an empty text");
    Context ctx = embedding_context(model_, tokens.size(), LLAMA_POOLING_TYPE_UNSPECIFIED);
    // A generative model declares no pooling: average its tokens' hidden states.
    if (llama_pooling_type(ctx.get()) == LLAMA_POOLING_TYPE_NONE) ctx = embedding_context(model_, tokens.size(), LLAMA_POOLING_TYPE_MEAN);
    llama_batch batch = llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size()));
    const int32_t rc = llama_model_has_decoder(model_.get()) ? llama_decode(ctx.get(), batch) : llama_encode(ctx.get(), batch);
    if (rc != 0) throw core::Error(core::ErrorCode::internal, "llama.cpp failed to embed the text (code " + std::to_string(rc) + ")");
    const float* pooled = llama_get_embeddings_seq(ctx.get(), 0);
    if (pooled == nullptr) throw core::Error(core::ErrorCode::unsupported, model_.options().path + " returns no pooled embedding");
    return std::vector<float>(pooled, pooled + llama_model_n_embd_out(model_.get()));
}

}  // namespace hiro::engine
