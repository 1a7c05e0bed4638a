#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.h"
#include "policy/feature_extractor.h"
#include "policy/stable_hash.h"

namespace hiro::policy {
namespace {

std::vector<std::string_view> words_of(std::string_view text, std::string& lowered) {
    lowered.resize(text.size());
    std::transform(text.begin(), text.end(), lowered.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < lowered.size()) {
        while (i < lowered.size() && !std::isalnum(static_cast<unsigned char>(lowered[i]))) ++i;
        std::size_t j = i;
        while (j < lowered.size() && std::isalnum(static_cast<unsigned char>(lowered[j]))) ++j;
        if (j > i) words.emplace_back(lowered.data() + i, j - i);
        i = j;
    }
    return words;
}

class HashedTfidf final : public FeatureExtractor {
public:
    HashedTfidf(TfidfOptions options, std::vector<float> idf) : options_(options), idf_(std::move(idf)) {}

    std::size_t dimension() const override { return options_.buckets; }

    // Raw term counts per bucket, ascending by bucket.
    std::vector<std::pair<std::uint32_t, float>> counts(std::string_view text) const {
        std::string lowered, padded;
        const auto words = words_of(text, lowered);
        std::vector<std::uint32_t> hits;
        auto add = [&](std::uint64_t h) { hits.push_back(static_cast<std::uint32_t>(h % options_.buckets)); };
        std::vector<std::uint64_t> word_hash;
        for (auto w : words) word_hash.push_back(stable_hash(w, 1));
        for (std::size_t i = 0; i < words.size(); ++i) {
            std::uint64_t h = word_hash[i];
            add(h);
            for (int n = 2; n <= options_.word_ngrams && i + static_cast<std::size_t>(n) <= words.size(); ++n) {
                h = h * 0x9E3779B97F4A7C15ULL + word_hash[i + static_cast<std::size_t>(n) - 1];
                add(stable_hash(std::string_view(reinterpret_cast<const char*>(&h), sizeof h), static_cast<std::uint64_t>(n)));
            }
            padded.assign(1, '<');  // boundary marks; not "<" + ... + ">": GCC 12 -Wrestrict false positive
            padded.append(words[i]);
            padded.push_back('>');
            for (int n = options_.char_min; n <= options_.char_max; ++n) {
                const auto len = static_cast<std::size_t>(n);
                for (std::size_t s = 0; s + len <= padded.size(); ++s) add(stable_hash(std::string_view(padded).substr(s, len), 100 + len));
            }
        }
        std::sort(hits.begin(), hits.end());
        std::vector<std::pair<std::uint32_t, float>> tf;
        for (std::uint32_t h : hits) {
            if (!tf.empty() && tf.back().first == h) tf.back().second += 1.0f;
            else tf.emplace_back(h, 1.0f);
        }
        return tf;
    }

    SparseVector extract(std::string_view text) const override {
        SparseVector v;
        double norm = 0.0;
        for (const auto& [bucket, count] : counts(text)) {
            const float w = (1.0f + std::log(count)) * idf_[bucket];
            v.index.push_back(bucket);
            v.value.push_back(w);
            norm += static_cast<double>(w) * w;
        }
        if (norm > 0) {
            const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
            for (auto& x : v.value) x *= scale;
        }
        return v;
    }

    nlohmann::json to_json() const override {
        // Most buckets share the unseen-term weight; store only the others.
        const float unseen = *std::max_element(idf_.begin(), idf_.end());
        std::vector<std::uint32_t> index;
        std::vector<float> value;
        for (std::uint32_t b = 0; b < idf_.size(); ++b) {
            if (idf_[b] != unseen) {
                index.push_back(b);
                value.push_back(idf_[b]);
            }
        }
        return {{"kind", "tfidf"},     {"buckets", options_.buckets}, {"word_ngrams", options_.word_ngrams},
                {"char_min", options_.char_min}, {"char_max", options_.char_max}, {"idf_unseen", unseen},
                {"idf_index", index},  {"idf_value", value}};
    }

private:
    TfidfOptions options_;
    std::vector<float> idf_;
};

class EmbeddingFeatures final : public FeatureExtractor {
public:
    EmbeddingFeatures(Embedder embed, std::size_t dimension, std::string source)
        : embed_(std::move(embed)), dimension_(dimension), source_(std::move(source)) {}

    std::size_t dimension() const override { return dimension_; }

    SparseVector extract(std::string_view text) const override {
        const std::vector<float> e = embed_(text);
        if (e.size() != dimension_) {
            throw core::Error(core::ErrorCode::internal, "embedding of " + std::to_string(e.size()) + " values from " + source_ +
                                                             ", expected " + std::to_string(dimension_));
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

    nlohmann::json to_json() const override { return {{"kind", "embedding"}, {"source", source_}, {"dimension", dimension_}}; }

private:
    Embedder embed_;
    std::size_t dimension_;
    std::string source_;
};

}  // namespace

std::unique_ptr<FeatureExtractor> fit_tfidf(std::span<const std::string_view> train_prompts, const TfidfOptions& options) {
    if (options.buckets == 0) throw core::Error(core::ErrorCode::invalid_input, "tfidf: buckets must be > 0");
    HashedTfidf counter(options, std::vector<float>(options.buckets, 1.0f));
    std::vector<std::uint32_t> df(options.buckets, 0);
    for (auto prompt : train_prompts) {
        for (const auto& [bucket, count] : counter.counts(prompt)) ++df[bucket];
    }
    const auto n = static_cast<double>(train_prompts.size());
    std::vector<float> idf(options.buckets);
    for (std::size_t b = 0; b < idf.size(); ++b) idf[b] = static_cast<float>(std::log((1.0 + n) / (1.0 + df[b])) + 1.0);
    return std::make_unique<HashedTfidf>(options, std::move(idf));
}

std::unique_ptr<FeatureExtractor> make_embedding_features(Embedder embed, std::size_t dimension, std::string source) {
    return std::make_unique<EmbeddingFeatures>(std::move(embed), dimension, std::move(source));
}

std::unique_ptr<FeatureExtractor> load_feature_extractor(const nlohmann::json& j) {
    try {
        const auto kind = j.at("kind").get<std::string>();
        if (kind == "embedding") {
            throw core::Error(core::ErrorCode::unsupported,
                              "router features come from the embedding model " + j.value("source", std::string("?")) +
                                  ", which needs the engine layer; this build cannot load it");
        }
        if (kind != "tfidf") throw core::Error(core::ErrorCode::invalid_input, "unknown feature kind '" + kind + "' (known: tfidf, embedding)");
        TfidfOptions options{j.at("buckets").get<std::uint32_t>(), j.at("word_ngrams").get<int>(), j.at("char_min").get<int>(),
                             j.at("char_max").get<int>()};
        std::vector<float> idf(options.buckets, j.at("idf_unseen").get<float>());
        const auto index = j.at("idf_index").get<std::vector<std::uint32_t>>();
        const auto value = j.at("idf_value").get<std::vector<float>>();
        if (index.size() != value.size()) throw core::Error(core::ErrorCode::invalid_input, "features: idf_index and idf_value differ in length");
        for (std::size_t i = 0; i < index.size(); ++i) idf.at(index[i]) = value[i];
        return std::make_unique<HashedTfidf>(options, std::move(idf));
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::invalid_input, std::string("router features: ") + e.what());
    } catch (const std::out_of_range&) {
        throw core::Error(core::ErrorCode::invalid_input, "router features: an idf index is past the bucket count");
    }
}

}  // namespace hiro::policy
