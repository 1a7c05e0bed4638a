#include <nlohmann/json.hpp>

#include <mutex>

#include "core/error.h"
#include "policy/feature_extractor.h"
#include "policy/kind_lookup.h"

namespace hiro::policy {

#define HIRO_FEATURE_KIND(name, fit, load, summary)                                                                 \
    std::unique_ptr<FeatureExtractor> fit(std::span<const std::string_view>, const FeatureOptions&); \
    std::unique_ptr<FeatureExtractor> load(const nlohmann::json&);
#include "policy/feature_kinds.def"
#undef HIRO_FEATURE_KIND

namespace {
constexpr FeatureKind kinds[] = {
#define HIRO_FEATURE_KIND(name, fit, load, summary) {#name, fit, load, summary},
#include "policy/feature_kinds.def"
#undef HIRO_FEATURE_KIND
};

// Several extractors side by side: each part's indices shifted past the
// previous parts'.
class FeatureStack final : public FeatureExtractor {
public:
    explicit FeatureStack(std::vector<std::unique_ptr<FeatureExtractor>> parts) : parts_(std::move(parts)) {
        for (const auto& p : parts_) dimension_ += p->dimension();
    }

    std::size_t dimension() const override { return dimension_; }

    SparseVector extract(std::string_view text) const override {
        SparseVector v;
        std::uint32_t offset = 0;
        for (const auto& p : parts_) {
            const SparseVector part = p->extract(text);
            for (std::size_t k = 0; k < part.size(); ++k) {
                v.index.push_back(offset + part.index[k]);
                v.value.push_back(part.value[k]);
            }
            offset += static_cast<std::uint32_t>(p->dimension());
        }
        return v;
    }

    nlohmann::json to_json() const override {
        nlohmann::json parts = nlohmann::json::array();
        for (const auto& p : parts_) parts.push_back(p->to_json());
        return {{"kind", "stack"}, {"parts", parts}};
    }

private:
    std::vector<std::unique_ptr<FeatureExtractor>> parts_;
    std::size_t dimension_ = 0;
};

std::mutex opener_mutex;
EmbedderOpener opener;

}  // namespace

std::span<const FeatureKind> feature_kinds() { return kinds; }

std::unique_ptr<FeatureExtractor> fit_features(std::span<const std::string_view> train_prompts, const FeatureOptions& options) {
    if (options.kinds.empty()) throw core::Error(core::ErrorCode::invalid_input, "a router needs at least one feature kind (--features)");
    std::vector<std::unique_ptr<FeatureExtractor>> parts;
    for (const auto& kind : options.kinds) parts.push_back(find_kind<FeatureKind>(kinds, kind, "router feature kind").fit(train_prompts, options));
    if (parts.size() == 1) return std::move(parts.front());
    return std::make_unique<FeatureStack>(std::move(parts));
}

std::unique_ptr<FeatureExtractor> load_feature_extractor(const nlohmann::json& j) {
    try {
        const auto kind = j.at("kind").get<std::string>();
        if (kind != "stack") return find_kind<FeatureKind>(kinds, kind, "router feature kind").load(j);
        std::vector<std::unique_ptr<FeatureExtractor>> parts;
        for (const auto& part : j.at("parts")) parts.push_back(load_feature_extractor(part));
        if (parts.empty()) throw core::Error(core::ErrorCode::invalid_input, "router features: a stack without parts");
        return std::make_unique<FeatureStack>(std::move(parts));
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::invalid_input, std::string("router features: ") + e.what());
    }
}

void set_embedder_opener(EmbedderOpener open) {
    std::lock_guard lock(opener_mutex);
    opener = std::move(open);
}

Embedder open_embedder(const std::string& model) {
    EmbedderOpener open;
    {
        std::lock_guard lock(opener_mutex);
        open = opener;
    }
    if (!open) {
        throw core::Error(core::ErrorCode::unsupported,
                          "router features come from the embedding model " + model + ", which this program cannot open (no engine)");
    }
    return open(model);
}

}  // namespace hiro::policy
