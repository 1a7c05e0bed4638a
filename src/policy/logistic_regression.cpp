#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "policy/quality_model.h"

namespace hiro::policy {
namespace {

// One logistic regression per model: P(correct) = sigmoid(w_m . x + b_m).
class LogisticRegression final : public QualityModel {
public:
    LogisticRegression(std::size_t dimension, std::size_t models)
        : dimension_(dimension), weights_(models, std::vector<float>(dimension, 0.0f)), bias_(models, 0.0) {}

    std::size_t models() const override { return bias_.size(); }

    std::vector<double> predict(const SparseVector& x) const override {
        std::vector<double> p(models());
        for (std::size_t m = 0; m < p.size(); ++m) p[m] = sigmoid(x.dot(weights_[m]) + bias_[m]);
        return p;
    }

    nlohmann::json to_json() const override {
        nlohmann::json models = nlohmann::json::array();
        for (std::size_t m = 0; m < bias_.size(); ++m) {
            std::vector<std::uint32_t> index;
            std::vector<float> value;
            for (std::uint32_t i = 0; i < dimension_; ++i) {
                if (weights_[m][i] != 0.0f) {
                    index.push_back(i);
                    value.push_back(weights_[m][i]);
                }
            }
            models.push_back({{"bias", bias_[m]}, {"index", index}, {"value", value}});
        }
        return {{"kind", "logistic"}, {"dimension", dimension_}, {"models", models}};
    }

    // AdaGrad SGD on the log-loss with L2 weight decay on the touched weights;
    // unobserved labels (NaN) contribute nothing.
    void fit(const TrainingData& data, const FitOptions& options) {
        std::vector<std::size_t> order(data.x.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::mt19937_64 rng(options.seed);
        for (std::size_t m = 0; m < models(); ++m) {
            // Start at the base rate so early steps learn the queries, not the mean.
            double correct = 0.0, seen = 0.0;
            for (const auto& row : data.y) {
                if (!std::isnan(row[m])) {
                    correct += row[m];
                    seen += 1.0;
                }
            }
            const double rate = seen > 0 ? std::clamp(correct / seen, 1e-3, 1 - 1e-3) : 0.5;
            bias_[m] = std::log(rate / (1 - rate));
        }
        std::vector<std::vector<float>> squared(models(), std::vector<float>(dimension_, 1e-8f));
        std::vector<double> bias_squared(models(), 1e-8);
        for (int epoch = 0; epoch < options.epochs; ++epoch) {
            std::shuffle(order.begin(), order.end(), rng);
            for (std::size_t q : order) {
                const SparseVector& x = data.x[q];
                for (std::size_t m = 0; m < models(); ++m) {
                    const float label = data.y[q][m];
                    if (std::isnan(label)) continue;
                    auto& w = weights_[m];
                    const double error = sigmoid(x.dot(w) + bias_[m]) - label;
                    for (std::size_t k = 0; k < x.size(); ++k) {
                        const std::uint32_t i = x.index[k];
                        const float g = static_cast<float>(error * x.value[k] + options.l2 * w[i]);
                        squared[m][i] += g * g;
                        w[i] -= static_cast<float>(options.learning_rate) * g / std::sqrt(squared[m][i]);
                    }
                    bias_squared[m] += error * error;
                    bias_[m] -= options.learning_rate * error / std::sqrt(bias_squared[m]);
                }
            }
        }
    }

    void load(const nlohmann::json& models) {
        for (std::size_t m = 0; m < bias_.size(); ++m) {
            const auto& jm = models.at(m);
            bias_[m] = jm.at("bias").get<double>();
            const auto index = jm.at("index").get<std::vector<std::uint32_t>>();
            const auto value = jm.at("value").get<std::vector<float>>();
            for (std::size_t k = 0; k < index.size() && k < value.size(); ++k) weights_[m].at(index[k]) = value[k];
        }
    }

private:
    std::size_t dimension_;
    std::vector<std::vector<float>> weights_;
    std::vector<double> bias_;
};

}  // namespace

std::unique_ptr<QualityModel> fit_logistic(const TrainingData& data, const FitOptions& options) {
    auto model = std::make_unique<LogisticRegression>(data.dimension, data.models());
    model->fit(data, options);
    return model;
}

std::unique_ptr<QualityModel> load_logistic(const nlohmann::json& j) {
    const auto& models = j.at("models");
    auto model = std::make_unique<LogisticRegression>(j.at("dimension").get<std::size_t>(), models.size());
    model->load(models);
    return model;
}

}  // namespace hiro::policy
