#include "hi/decision_modules.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "hi/fashion_mnist.h"

namespace hiro::hi {
namespace {

void require_samples(const LocalPredictions& p) {
    if (p.size() == 0 || p.logits.size() != p.size() * class_count) {
        throw core::Error(core::ErrorCode::invalid_input, "a decision module needs the validation split's logits and labels");
    }
}

double nll(const LocalPredictions& p, double temperature) {
    double sum = 0;
    for (std::size_t i = 0; i < p.size(); ++i) sum -= std::log(std::max(1e-300, softmax(&p.logits[i * class_count], temperature)[p.labels[i]]));
    return sum / static_cast<double>(p.size());
}

std::array<double, 2> top2(const float* logits) {
    auto p = softmax(logits, 1.0);
    std::partial_sort(p.begin(), p.begin() + 2, p.end(), std::greater<>());
    return {p[0], p[1]};
}

}  // namespace

int LocalPredictions::predicted(std::size_t i) const {
    const float* l = &logits[i * class_count];
    return static_cast<int>(std::max_element(l, l + class_count) - l);
}

std::vector<double> softmax(const float* logits, double temperature) {
    const double top = *std::max_element(logits, logits + class_count);
    std::vector<double> p(class_count);
    double sum = 0;
    for (int k = 0; k < class_count; ++k) sum += p[k] = std::exp((logits[k] - top) / temperature);
    for (auto& v : p) v /= sum;
    return p;
}

double MaxSoftmaxModule::confidence(const float* logits) const {
    const auto p = softmax(logits, temperature);
    return *std::max_element(p.begin(), p.end());
}

MaxSoftmaxModule fit_max_softmax(const LocalPredictions& validation) {
    require_samples(validation);
    // The NLL is unimodal in log T: golden-section search over T in [0.05, 20].
    double lo = std::log(0.05), hi = std::log(20.0);
    const double g = (std::sqrt(5.0) - 1) / 2;
    for (int it = 0; it < 60; ++it) {
        const double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
        if (nll(validation, std::exp(a)) < nll(validation, std::exp(b))) hi = b; else lo = a;
    }
    return {std::exp((lo + hi) / 2), 0.5};
}

double Top2LogisticModule::p_wrong(const float* logits) const {
    const auto t = top2(logits);
    return 1.0 / (1.0 + std::exp(-(bias + w_top1 * t[0] + w_top2 * t[1])));
}

Top2LogisticModule fit_top2_logistic(const LocalPredictions& validation) {
    require_samples(validation);
    // Newton's method on the (slightly L2-regularised) log-likelihood; three parameters.
    std::array<double, 3> w{0, 0, 0};
    constexpr double l2 = 1e-4;
    for (int it = 0; it < 50; ++it) {
        std::array<double, 3> grad{l2 * w[0], l2 * w[1], l2 * w[2]};
        std::array<std::array<double, 3>, 3> hess{};
        for (int k = 0; k < 3; ++k) hess[k][k] = l2;
        for (std::size_t i = 0; i < validation.size(); ++i) {
            const auto t = top2(&validation.logits[i * class_count]);
            const std::array<double, 3> x{1.0, t[0], t[1]};
            const double p = 1.0 / (1.0 + std::exp(-(w[0] * x[0] + w[1] * x[1] + w[2] * x[2])));
            const double y = validation.correct(i) ? 0.0 : 1.0;
            for (int a = 0; a < 3; ++a) {
                grad[a] += (p - y) * x[a];
                for (int b = 0; b < 3; ++b) hess[a][b] += p * (1 - p) * x[a] * x[b];
            }
        }
        // Solve hess * step = grad by Gaussian elimination (3x3, symmetric positive definite).
        auto m = hess;
        auto r = grad;
        for (int c = 0; c < 3; ++c) {
            for (int row = c + 1; row < 3; ++row) {
                const double f = m[row][c] / m[c][c];
                for (int k = c; k < 3; ++k) m[row][k] -= f * m[c][k];
                r[row] -= f * r[c];
            }
        }
        std::array<double, 3> step{};
        for (int c = 2; c >= 0; --c) {
            double s = r[c];
            for (int k = c + 1; k < 3; ++k) s -= m[c][k] * step[k];
            step[c] = s / m[c][c];
        }
        double change = 0;
        for (int a = 0; a < 3; ++a) {
            w[a] -= step[a];
            change += std::abs(step[a]);
        }
        if (change < 1e-9) break;
    }
    return {w[0], w[1], w[2], 0.5};
}

}  // namespace hiro::hi
