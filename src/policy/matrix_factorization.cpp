#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "policy/quality_model.h"

namespace hiro::policy {
namespace {

// RouteLLM's matrix-factorisation router, for per-model correctness: a query
// is embedded as z = P x (rank r, learned from its features) and each model m
// has an embedding u_m, so P(m correct | x) = sigmoid(u_m . z + b_m). The
// (query, model) correctness matrix is thus modelled as low rank, and models
// share what they learn about queries.
class MatrixFactorization final : public QualityModel {
public:
    MatrixFactorization(std::size_t dimension, std::size_t models, std::size_t rank)
        : dimension_(dimension), rank_(rank), projection_(dimension * rank, 0.0f), model_(models * rank, 0.0f), bias_(models, 0.0) {}

    std::size_t models() const override { return bias_.size(); }

    std::vector<double> predict(const SparseVector& x) const override {
        const std::vector<double> z = embed(x);
        std::vector<double> p(models());
        for (std::size_t m = 0; m < p.size(); ++m) p[m] = sigmoid(logit(z, m));
        return p;
    }

    nlohmann::json to_json() const override {
        std::vector<std::uint32_t> index;  // feature columns that were ever trained
        std::vector<float> value;
        for (std::uint32_t i = 0; i < dimension_; ++i) {
            const float* col = &projection_[i * rank_];
            if (std::any_of(col, col + rank_, [](float v) { return v != 0.0f; })) {
                index.push_back(i);
                value.insert(value.end(), col, col + rank_);
            }
        }
        return {{"kind", "mf"}, {"dimension", dimension_}, {"rank", rank_}, {"bias", bias_},
                {"models", model_}, {"projection_index", index}, {"projection_value", value}};
    }

    // AdaGrad SGD on the log-loss of every observed (query, model) entry.
    void fit(const TrainingData& data, const FitOptions& options) {
        std::mt19937_64 rng(options.seed);
        std::normal_distribution<float> init(0.0f, 0.1f);
        for (auto& v : model_) v = init(rng);
        // Projection columns start small and random only where features occur.
        for (const auto& x : data.x) {
            for (std::uint32_t i : x.index) {
                float* col = &projection_[i * rank_];
                if (std::all_of(col, col + rank_, [](float v) { return v == 0.0f; })) {
                    for (std::size_t r = 0; r < rank_; ++r) col[r] = init(rng);
                }
            }
        }
        std::vector<float> proj_sq(projection_.size(), 1e-8f), model_sq(model_.size(), 1e-8f);
        std::vector<double> bias_sq(models(), 1e-8);
        std::vector<std::size_t> order(data.x.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        const auto lr = static_cast<float>(options.learning_rate);
        const auto l2 = static_cast<float>(options.l2);
        std::vector<double> grad_z(rank_);
        for (int epoch = 0; epoch < options.epochs; ++epoch) {
            std::shuffle(order.begin(), order.end(), rng);
            for (std::size_t q : order) {
                const SparseVector& x = data.x[q];
                const std::vector<double> z = embed(x);
                std::fill(grad_z.begin(), grad_z.end(), 0.0);
                for (std::size_t m = 0; m < models(); ++m) {
                    const float label = data.y[q][m];
                    if (std::isnan(label)) continue;
                    const double error = sigmoid(logit(z, m)) - label;
                    float* u = &model_[m * rank_];
                    for (std::size_t r = 0; r < rank_; ++r) {
                        grad_z[r] += error * u[r];
                        const auto g = static_cast<float>(error * z[r]) + l2 * u[r];
                        model_sq[m * rank_ + r] += g * g;
                        u[r] -= lr * g / std::sqrt(model_sq[m * rank_ + r]);
                    }
                    bias_sq[m] += error * error;
                    bias_[m] -= options.learning_rate * error / std::sqrt(bias_sq[m]);
                }
                for (std::size_t k = 0; k < x.size(); ++k) {
                    float* col = &projection_[x.index[k] * rank_];
                    float* sq = &proj_sq[x.index[k] * rank_];
                    for (std::size_t r = 0; r < rank_; ++r) {
                        const auto g = static_cast<float>(grad_z[r] * x.value[k]) + l2 * col[r];
                        sq[r] += g * g;
                        col[r] -= lr * g / std::sqrt(sq[r]);
                    }
                }
            }
        }
    }

    void load(const nlohmann::json& j) {
        bias_ = j.at("bias").get<std::vector<double>>();
        model_ = j.at("models").get<std::vector<float>>();
        const auto index = j.at("projection_index").get<std::vector<std::uint32_t>>();
        const auto value = j.at("projection_value").get<std::vector<float>>();
        if (model_.size() != bias_.size() * rank_ || value.size() != index.size() * rank_) {
            throw nlohmann::json::other_error::create(501, "mf: parameter sizes disagree with the rank", nullptr);
        }
        for (std::size_t k = 0; k < index.size(); ++k) {
            if (index[k] >= dimension_) throw nlohmann::json::other_error::create(501, "mf: a feature index is past the dimension", nullptr);
            std::copy_n(&value[k * rank_], rank_, &projection_[index[k] * rank_]);
        }
    }

private:
    std::vector<double> embed(const SparseVector& x) const {
        std::vector<double> z(rank_, 0.0);
        for (std::size_t k = 0; k < x.size(); ++k) {
            const float* col = &projection_[x.index[k] * rank_];
            for (std::size_t r = 0; r < rank_; ++r) z[r] += static_cast<double>(col[r]) * x.value[k];
        }
        return z;
    }

    double logit(const std::vector<double>& z, std::size_t m) const {
        double s = bias_[m];
        for (std::size_t r = 0; r < rank_; ++r) s += z[r] * model_[m * rank_ + r];
        return s;
    }

    std::size_t dimension_, rank_;
    std::vector<float> projection_;  // dimension x rank, one column per feature
    std::vector<float> model_;       // models x rank
    std::vector<double> bias_;
};

}  // namespace

std::unique_ptr<QualityModel> fit_matrix_factorization(const TrainingData& data, const FitOptions& options) {
    auto model = std::make_unique<MatrixFactorization>(data.dimension, data.models(), std::max<std::size_t>(1, options.rank));
    model->fit(data, options);
    return model;
}

std::unique_ptr<QualityModel> load_matrix_factorization(const nlohmann::json& j) {
    auto model = std::make_unique<MatrixFactorization>(j.at("dimension").get<std::size_t>(), j.at("bias").size(), j.at("rank").get<std::size_t>());
    model->load(j);
    return model;
}

}  // namespace hiro::policy
