#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/sparse_vector.h"

namespace hiro::policy {

// Turns a prompt into the feature vector a learned router scores. Built-in:
// hashed TF-IDF n-grams (no model needed). Prompt embeddings from a GGUF
// embedding model plug in through EmbeddingFeatures below.
class FeatureExtractor {
public:
    virtual ~FeatureExtractor() = default;
    virtual std::size_t dimension() const = 0;
    virtual SparseVector extract(std::string_view text) const = 0;
    // Everything needed to rebuild this extractor (saved in the router file).
    virtual nlohmann::json to_json() const = 0;
};

struct TfidfOptions {
    std::uint32_t buckets = 1u << 16;  // hashing-trick dimension (router files grow with it)
    int word_ngrams = 2;               // word 1..n-grams
    int char_min = 3, char_max = 5;    // character n-grams within words, with boundary marks
};

// Hashed word and character n-grams with TF-IDF weights learned from the
// training prompts: log-scaled term counts, smoothed IDF, L2-normalised.
std::unique_ptr<FeatureExtractor> fit_tfidf(std::span<const std::string_view> train_prompts, const TfidfOptions& options = {});

// A prompt-embedding function, e.g. an engine-layer GGUF embedding model.
using Embedder = std::function<std::vector<float>(std::string_view)>;

// The seam for embeddings: wraps any Embedder (L2-normalised dense features).
// `source` names the embedding model in the router file. Rebuilding it from a
// router file needs the engine layer, which is not wired in yet.
std::unique_ptr<FeatureExtractor> make_embedding_features(Embedder embed, std::size_t dimension, std::string source);

// Rebuilds a saved extractor; throws an invalid_input Error for a bad blob and
// unsupported for embedding features (they need an Embedder).
std::unique_ptr<FeatureExtractor> load_feature_extractor(const nlohmann::json& j);

}  // namespace hiro::policy
