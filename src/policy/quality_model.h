#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/sparse_vector.h"

namespace hiro::policy {

// What a quality model learns from: one feature vector per query and, per
// query and model, 1 (answered correctly), 0 (wrongly) or NaN (not observed).
struct TrainingData {
    std::vector<SparseVector> x;
    std::size_t dimension = 0;
    std::vector<std::vector<float>> y;  // y[query][model]
    std::size_t models() const { return y.empty() ? 0 : y[0].size(); }
};

struct FitOptions {
    double l2 = 1e-4;          // weight decay
    int epochs = 4;
    double learning_rate = 0.5;
    std::size_t neighbours = 50;  // kNN
    std::size_t rank = 8;         // matrix factorisation
    std::uint64_t seed = 0;
};

// Predicts, for one query, the probability that each model answers correctly.
class QualityModel {
public:
    virtual ~QualityModel() = default;
    virtual std::size_t models() const = 0;
    virtual std::vector<double> predict(const SparseVector& x) const = 0;
    virtual nlohmann::json to_json() const = 0;  // includes "kind"
};

using QualityFit = std::unique_ptr<QualityModel> (*)(const TrainingData&, const FitOptions&);
using QualityLoad = std::unique_ptr<QualityModel> (*)(const nlohmann::json&);

struct QualityModelKind {
    std::string_view name;
    QualityFit fit;
    QualityLoad load;
    std::string_view summary;
};

std::span<const QualityModelKind> quality_model_kinds();

// Fits a registered kind (quality_model_kinds.def); throws an invalid_input
// Error naming the known kinds for an unknown one, or for empty data.
std::unique_ptr<QualityModel> fit_quality_model(std::string_view kind, const TrainingData& data, const FitOptions& options);

// Rebuilds a saved model from its to_json().
std::unique_ptr<QualityModel> load_quality_model(const nlohmann::json& j);

double sigmoid(double z);

}  // namespace hiro::policy
