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

// Turns a prompt into the feature vector a learned router scores. The kinds
// are registered in feature_kinds.def; a router may stack several.
class FeatureExtractor {
public:
    virtual ~FeatureExtractor() = default;
    virtual std::size_t dimension() const = 0;
    virtual SparseVector extract(std::string_view text) const = 0;
    // Everything needed to rebuild this extractor (saved in the router file),
    // including its "kind".
    virtual nlohmann::json to_json() const = 0;
};

struct TfidfOptions {
    std::uint32_t buckets = 1u << 16;  // hashing-trick dimension (router files grow with it)
    int word_ngrams = 2;               // word 1..n-grams
    int char_min = 3, char_max = 5;    // character n-grams within words, with boundary marks
};

struct FeatureOptions {
    std::vector<std::string> kinds{"tfidf", "stats"};  // stacked in this order
    TfidfOptions tfidf;
    std::string embedding_model;  // GGUF file, for kind "embedding"
};

using FeatureFit = std::unique_ptr<FeatureExtractor> (*)(std::span<const std::string_view> train_prompts, const FeatureOptions&);
using FeatureLoad = std::unique_ptr<FeatureExtractor> (*)(const nlohmann::json&);

struct FeatureKind {
    std::string_view name;
    FeatureFit fit;
    FeatureLoad load;
    std::string_view summary;
};

std::span<const FeatureKind> feature_kinds();

// Fits the requested kinds on the training prompts only; more than one kind
// gives their concatenation. Throws an invalid_input Error naming the known
// kinds for an unknown one.
std::unique_ptr<FeatureExtractor> fit_features(std::span<const std::string_view> train_prompts, const FeatureOptions& options);

// Rebuilds a saved extractor; throws an invalid_input Error for a bad blob.
std::unique_ptr<FeatureExtractor> load_feature_extractor(const nlohmann::json& j);

// A prompt-embedding function and its dimension.
struct Embedder {
    std::function<std::vector<float>(std::string_view)> embed;
    std::size_t dimension = 0;
};

// Opens the embedding model a router names (a GGUF path). The policy layer
// does not link llama.cpp: the executable registers the engine's opener at
// start-up; until then embedding features throw an unsupported Error.
using EmbedderOpener = std::function<Embedder(const std::string& model)>;
void set_embedder_opener(EmbedderOpener open);
Embedder open_embedder(const std::string& model);

// Embedding features over any Embedder (L2-normalised dense features);
// `source` names the model in the router file.
std::unique_ptr<FeatureExtractor> make_embedding_features(Embedder embedder, std::string source);

}  // namespace hiro::policy
