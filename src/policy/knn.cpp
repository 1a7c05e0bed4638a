#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "policy/quality_model.h"
#include "policy/stable_hash.h"

namespace hiro::policy {
namespace {

// Compact dense sketch of a sparse vector (count sketch: each feature adds
// +-value to one of `width` slots), L2-normalised, so the stored training set
// stays small and a similarity is `width` multiply-adds. Cosine similarity
// on sketches approximates cosine on the full features.
constexpr std::size_t sketch_width = 128;

std::vector<float> sketch(const SparseVector& x) {
    std::vector<float> s(sketch_width, 0.0f);
    for (std::size_t k = 0; k < x.size(); ++k) {
        const std::uint64_t h = stable_hash(std::string_view(reinterpret_cast<const char*>(&x.index[k]), sizeof x.index[k]), 7);
        s[h % sketch_width] += (h >> 63) ? x.value[k] : -x.value[k];
    }
    double norm = 0.0;
    for (float v : s) norm += static_cast<double>(v) * v;
    if (norm > 0) {
        const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
        for (auto& v : s) v *= scale;
    }
    return s;
}

// P(correct) of each model = similarity-weighted share of the k nearest
// training queries it answered correctly, shrunk towards its base rate.
class Knn final : public QualityModel {
public:
    Knn(std::size_t k, std::vector<float> sketches, std::vector<std::vector<float>> labels)
        : k_(k), sketches_(std::move(sketches)), labels_(std::move(labels)) {
        base_rate_.assign(models(), 0.5);
        for (std::size_t m = 0; m < models(); ++m) {
            double sum = 0, seen = 0;
            for (const auto& row : labels_) {
                if (!std::isnan(row[m])) {
                    sum += row[m];
                    seen += 1;
                }
            }
            if (seen > 0) base_rate_[m] = sum / seen;
        }
    }

    std::size_t models() const override { return labels_.empty() ? 0 : labels_[0].size(); }

    std::vector<double> predict(const SparseVector& x) const override {
        const std::vector<float> q = sketch(x);
        const std::size_t n = labels_.size();
        std::vector<std::pair<float, std::size_t>> sims(n);
        for (std::size_t r = 0; r < n; ++r) {
            const float* row = &sketches_[r * sketch_width];
            float dot = 0.0f;
            for (std::size_t i = 0; i < sketch_width; ++i) dot += row[i] * q[i];
            sims[r] = {dot, r};
        }
        const std::size_t k = std::min(k_, n);
        std::nth_element(sims.begin(), sims.begin() + static_cast<std::ptrdiff_t>(k) - 1, sims.end(), std::greater<>());
        std::vector<double> p(models());
        for (std::size_t m = 0; m < models(); ++m) {
            double sum = base_rate_[m], weight = 1.0;  // one pseudo-neighbour at the base rate
            for (std::size_t i = 0; i < k; ++i) {
                const float label = labels_[sims[i].second][m];
                const double w = std::max(0.0f, sims[i].first);
                if (std::isnan(label) || w == 0.0) continue;
                sum += w * label;
                weight += w;
            }
            p[m] = sum / weight;
        }
        return p;
    }

    nlohmann::json to_json() const override {
        nlohmann::json labels = nlohmann::json::array();
        for (const auto& row : labels_) {
            nlohmann::json r = nlohmann::json::array();
            for (float v : row) r.push_back(std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(static_cast<int>(v)));
            labels.push_back(std::move(r));
        }
        // Sketch entries are in [-1, 1]; 8 bits each keep similarities to
        // about 1% and the router file a quarter of the size.
        std::vector<int> quantised;
        quantised.reserve(sketches_.size());
        for (float v : sketches_) quantised.push_back(static_cast<int>(std::lround(v * 127.0f)));
        return {{"kind", "knn"}, {"neighbours", k_}, {"sketches_q8", quantised}, {"labels", labels}};
    }

private:
    std::size_t k_;
    std::vector<float> sketches_;  // row-major, sketch_width per training query
    std::vector<std::vector<float>> labels_;
    std::vector<double> base_rate_;
};

}  // namespace

std::unique_ptr<QualityModel> fit_knn(const TrainingData& data, const FitOptions& options) {
    std::vector<float> sketches;
    sketches.reserve(data.x.size() * sketch_width);
    for (const auto& x : data.x) {
        const auto s = sketch(x);
        sketches.insert(sketches.end(), s.begin(), s.end());
    }
    return std::make_unique<Knn>(std::max<std::size_t>(1, options.neighbours), std::move(sketches), data.y);
}

std::unique_ptr<QualityModel> load_knn(const nlohmann::json& j) {
    std::vector<std::vector<float>> labels;
    for (const auto& row : j.at("labels")) {
        std::vector<float> r;
        for (const auto& v : row) r.push_back(v.is_null() ? std::nanf("") : v.get<float>());
        labels.push_back(std::move(r));
    }
    std::vector<float> sketches;
    for (int q : j.at("sketches_q8").get<std::vector<int>>()) sketches.push_back(static_cast<float>(q) / 127.0f);
    if (sketches.size() != labels.size() * sketch_width) {
        throw nlohmann::json::other_error::create(501, "knn: sketches and labels disagree in size", nullptr);
    }
    return std::make_unique<Knn>(j.at("neighbours").get<std::size_t>(), std::move(sketches), std::move(labels));
}

}  // namespace hiro::policy
