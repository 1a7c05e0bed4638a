#include <nlohmann/json.hpp>

#include <cmath>

#include "core/error.h"
#include "policy/feature_extractor.h"

namespace hiro::policy {
namespace {

class EmbeddingFeatures final : public FeatureExtractor {
public:
    EmbeddingFeatures(Embedder embedder, std::string source) : embedder_(std::move(embedder)), source_(std::move(source)) {}

    std::size_t dimension() const override { return embedder_.dimension; }

    SparseVector extract(std::string_view text) const override {
        const std::vector<float> e = embedder_.embed(text);
        if (e.size() != embedder_.dimension) {
            throw core::Error(core::ErrorCode::internal, "embedding of " + std::to_string(e.size()) + " values from " + source_ +
                                                             ", expected " + std::to_string(embedder_.dimension));
        }
        double norm = 0.0;
        for (float x : e) norm += static_cast<double>(x) * x;
        const float scale = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
        SparseVector v;
        for (std::uint32_t i = 0; i < e.size(); ++i) {
            v.index.push_back(i);
            v.value.push_back(e[i] * scale);
        }
        return v;
    }

    nlohmann::json to_json() const override { return {{"kind", "embedding"}, {"source", source_}, {"dimension", embedder_.dimension}}; }

private:
    Embedder embedder_;
    std::string source_;
};

}  // namespace

std::unique_ptr<FeatureExtractor> make_embedding_features(Embedder embedder, std::string source) {
    return std::make_unique<EmbeddingFeatures>(std::move(embedder), std::move(source));
}

std::unique_ptr<FeatureExtractor> fit_embedding_features(std::span<const std::string_view>, const FeatureOptions& options) {
    if (options.embedding_model.empty()) {
        throw core::Error(core::ErrorCode::invalid_input, "embedding features need a GGUF embedding model (--embedding-model FILE)");
    }
    return make_embedding_features(open_embedder(options.embedding_model), options.embedding_model);
}

std::unique_ptr<FeatureExtractor> load_embedding_features(const nlohmann::json& j) {
    const auto source = j.at("source").get<std::string>();
    const auto dimension = j.at("dimension").get<std::size_t>();
    Embedder embedder = open_embedder(source);
    if (embedder.dimension != dimension) {
        throw core::Error(core::ErrorCode::invalid_input, "the router was trained on " + std::to_string(dimension) + "-value embeddings, but " +
                                                              source + " gives " + std::to_string(embedder.dimension));
    }
    return make_embedding_features(std::move(embedder), source);
}

}  // namespace hiro::policy
