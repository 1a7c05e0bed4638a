#include "policy/logistic_confidence.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hiro::policy {
namespace {

constexpr double l2_penalty = 1e-3;
constexpr int newton_iterations = 50;

double clamp_signal(double x) { return std::max(x, signal_floor); }

// log(sigmoid(z)) without overflow for large |z|.
double log_sigmoid(double z) { return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z)); }

// Solves A x = b in place (Gaussian elimination with partial pivoting); A is
// small (one row per feature plus the bias) and positive definite here.
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
    const std::size_t n = b.size();
    for (std::size_t c = 0; c < n; ++c) {
        std::size_t pivot = c;
        for (std::size_t r = c + 1; r < n; ++r) {
            if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
        }
        std::swap(a[c], a[pivot]);
        std::swap(b[c], b[pivot]);
        for (std::size_t r = c + 1; r < n; ++r) {
            const double f = a[r][c] / a[c][c];
            for (std::size_t k = c; k < n; ++k) a[r][k] -= f * a[c][k];
            b[r] -= f * b[c];
        }
    }
    std::vector<double> x(n);
    for (std::size_t i = n; i-- > 0;) {
        double s = b[i];
        for (std::size_t k = i + 1; k < n; ++k) s -= a[i][k] * x[k];
        x[i] = s / a[i][i];
    }
    return x;
}

class LogisticConfidence final : public ConfidenceEstimator {
public:
    explicit LogisticConfidence(LogisticConfidenceModel model) : model_(std::move(model)) {
        for (const auto& f : model_.features) signals_.push_back(make_confidence_estimator(f));
    }
    std::string_view name() const override { return "logistic"; }
    double estimate(std::span<const core::TokenLogprob> tokens) const override {
        std::vector<double> x;
        for (const auto& s : signals_) x.push_back(s->estimate(tokens));
        return model_.log_p_correct(x);
    }

private:
    LogisticConfidenceModel model_;
    std::vector<std::unique_ptr<ConfidenceEstimator>> signals_;
};

}  // namespace

double LogisticConfidenceModel::log_p_correct(std::span<const double> x) const {
    double z = bias;
    for (std::size_t i = 0; i < weights.size(); ++i) z += weights[i] * (clamp_signal(x[i]) - mean[i]) / scale[i];
    return log_sigmoid(z);
}

std::vector<double> recorded_features(const core::OutcomeSet& set, const core::ModelOutcome& outcome,
                                      std::span<const std::string> features) {
    std::vector<double> x;
    for (const auto& f : features) {
        if (auto it = outcome.signals.find(f); it != outcome.signals.end()) {
            x.push_back(it->second);
        } else if (f == set.confidence_signal && outcome.confidence) {
            x.push_back(*outcome.confidence);
        } else {
            throw core::Error(core::ErrorCode::invalid_input,
                              set.source + " has no signal '" + f + "' (record it with hiro record, or pick signals the file has)");
        }
    }
    return x;
}

LogisticConfidenceModel fit_logistic_confidence(const core::OutcomeSet& set, std::string_view model_name,
                                                std::vector<std::string> features) {
    if (features.empty()) throw core::Error(core::ErrorCode::invalid_input, "a logistic confidence needs at least one signal");
    const std::size_t m = set.model_index(model_name);
    const std::size_t d = features.size();
    std::vector<std::vector<double>> x;
    std::vector<double> y;
    for (const auto& r : set.records) {
        std::vector<double> row = recorded_features(set, r.models[m], features);
        for (double& v : row) v = clamp_signal(v);
        x.push_back(std::move(row));
        y.push_back(r.models[m].correct ? 1.0 : 0.0);
    }
    LogisticConfidenceModel fit;
    fit.features = std::move(features);
    fit.fitted_on = set.source + " (" + std::string(model_name) + ")";
    fit.fitted_queries = x.size();
    fit.mean.assign(d, 0.0);
    fit.scale.assign(d, 0.0);
    for (const auto& row : x) {
        for (std::size_t j = 0; j < d; ++j) fit.mean[j] += row[j] / static_cast<double>(x.size());
    }
    for (const auto& row : x) {
        for (std::size_t j = 0; j < d; ++j) fit.scale[j] += (row[j] - fit.mean[j]) * (row[j] - fit.mean[j]) / static_cast<double>(x.size());
    }
    for (double& s : fit.scale) s = s > 0 ? std::sqrt(s) : 1.0;  // a constant feature stays harmless

    // Newton-Raphson on the penalised log-likelihood; parameter d is the bias.
    std::vector<double> beta(d + 1, 0.0);
    for (int it = 0; it < newton_iterations; ++it) {
        std::vector<double> grad(d + 1, 0.0);
        std::vector<std::vector<double>> hess(d + 1, std::vector<double>(d + 1, 0.0));
        for (std::size_t i = 0; i < x.size(); ++i) {
            std::vector<double> z(d + 1, 1.0);
            for (std::size_t j = 0; j < d; ++j) z[j] = (x[i][j] - fit.mean[j]) / fit.scale[j];
            double logit = 0.0;
            for (std::size_t j = 0; j <= d; ++j) logit += beta[j] * z[j];
            const double p = 1.0 / (1.0 + std::exp(-logit));
            for (std::size_t j = 0; j <= d; ++j) {
                grad[j] += (y[i] - p) * z[j];
                for (std::size_t k = 0; k <= d; ++k) hess[j][k] += p * (1 - p) * z[j] * z[k];
            }
        }
        for (std::size_t j = 0; j < d; ++j) {
            grad[j] -= l2_penalty * beta[j];
            hess[j][j] += l2_penalty;
        }
        hess[d][d] += 1e-9;
        const std::vector<double> step = solve(hess, grad);
        double largest = 0.0;
        for (std::size_t j = 0; j <= d; ++j) {
            beta[j] += step[j];
            largest = std::max(largest, std::abs(step[j]));
        }
        if (largest < 1e-10) break;
    }
    fit.weights.assign(beta.begin(), beta.begin() + static_cast<std::ptrdiff_t>(d));
    fit.bias = beta[d];
    return fit;
}

void save_logistic_confidence(const LogisticConfidenceModel& model, const std::string& path) {
    const nlohmann::json j = {{"kind", "logistic_confidence"}, {"features", model.features}, {"mean", model.mean},
                              {"scale", model.scale},           {"weights", model.weights},   {"bias", model.bias},
                              {"fitted_on", model.fitted_on},   {"fitted_queries", model.fitted_queries}};
    std::ofstream out(path);
    out << j.dump(2) << '\n';
    if (!out) throw core::Error(core::ErrorCode::io, "cannot write " + path);
}

LogisticConfidenceModel load_logistic_confidence(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw core::Error(core::ErrorCode::not_found, "cannot open logistic confidence model " + path);
    LogisticConfidenceModel m;
    try {
        const auto j = nlohmann::json::parse(in);
        m.features = j.at("features").get<std::vector<std::string>>();
        m.mean = j.at("mean").get<std::vector<double>>();
        m.scale = j.at("scale").get<std::vector<double>>();
        m.weights = j.at("weights").get<std::vector<double>>();
        m.bias = j.at("bias").get<double>();
        m.fitted_on = j.value("fitted_on", "");
        m.fitted_queries = j.value("fitted_queries", std::size_t{0});
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::invalid_input,
                          path + ": not a logistic confidence model {features, mean, scale, weights, bias}: " + e.what());
    }
    const std::size_t d = m.features.size();
    if (d == 0 || m.mean.size() != d || m.scale.size() != d || m.weights.size() != d) {
        throw core::Error(core::ErrorCode::invalid_input, path + ": features, mean, scale and weights must have the same, non-zero length");
    }
    return m;
}

std::unique_ptr<ConfidenceEstimator> make_logistic_confidence(LogisticConfidenceModel model) {
    return std::make_unique<LogisticConfidence>(std::move(model));
}

}  // namespace hiro::policy
