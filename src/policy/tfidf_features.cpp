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

}  // namespace

std::unique_ptr<FeatureExtractor> fit_tfidf_features(std::span<const std::string_view> train_prompts, const FeatureOptions& features) {
    const TfidfOptions& options = features.tfidf;
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

std::unique_ptr<FeatureExtractor> load_tfidf_features(const nlohmann::json& j) {
    TfidfOptions options{j.at("buckets").get<std::uint32_t>(), j.at("word_ngrams").get<int>(), j.at("char_min").get<int>(),
                         j.at("char_max").get<int>()};
    if (options.buckets == 0) throw core::Error(core::ErrorCode::invalid_input, "router features: tfidf buckets must be > 0");
    std::vector<float> idf(options.buckets, j.at("idf_unseen").get<float>());
    const auto index = j.at("idf_index").get<std::vector<std::uint32_t>>();
    const auto value = j.at("idf_value").get<std::vector<float>>();
    if (index.size() != value.size()) throw core::Error(core::ErrorCode::invalid_input, "router features: idf_index and idf_value differ in length");
    for (std::size_t i = 0; i < index.size(); ++i) {
        if (index[i] >= idf.size()) throw core::Error(core::ErrorCode::invalid_input, "router features: an idf index is past the bucket count");
        idf[index[i]] = value[i];
    }
    return std::make_unique<HashedTfidf>(options, std::move(idf));
}

}  // namespace hiro::policy
