#include "policy/confidence_calibration.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "policy/quality_model.h"

namespace hiro::policy {
namespace {
// Log-probabilities below this carry no more information; -inf lands here too.
constexpr double floor_logprob = -50.0;
double finite(double x) { return std::max(x, floor_logprob); }
}  // namespace

double PlattScaling::operator()(double confidence) const { return sigmoid(a * finite(confidence) + b); }

PlattScaling fit_platt(std::span<const double> confidence, std::span<const double> correct) {
    PlattScaling s;
    // Platt's target smoothing keeps a separable sample from sending a to infinity.
    double positives = std::accumulate(correct.begin(), correct.end(), 0.0);
    const double n = static_cast<double>(correct.size());
    const double hi = (positives + 1) / (positives + 2), lo = 1 / (n - positives + 2);
    s.a = 0.0;
    s.b = std::log((positives + 1) / (n - positives + 1));
    for (int iter = 0; iter < 50; ++iter) {
        double ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
        for (std::size_t i = 0; i < confidence.size(); ++i) {
            const double x = finite(confidence[i]);
            const double p = s(confidence[i]);
            const double t = correct[i] > 0.5 ? hi : lo;
            const double w = p * (1 - p);
            ga += (p - t) * x;
            gb += p - t;
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        const double det = haa * hbb - hab * hab;
        if (std::abs(det) < 1e-18) break;
        const double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
        s.a -= da;
        s.b -= db;
        if (std::abs(da) + std::abs(db) < 1e-10) break;
    }
    return s;
}

double IsotonicMap::operator()(double confidence) const {
    if (upper.empty()) return 0.5;
    auto it = std::lower_bound(upper.begin(), upper.end(), confidence);
    if (it == upper.end()) return probability.back();
    return probability[static_cast<std::size_t>(it - upper.begin())];
}

IsotonicMap fit_isotonic(std::span<const double> confidence, std::span<const double> correct) {
    std::vector<std::size_t> order(confidence.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return confidence[a] < confidence[b]; });
    struct Block {
        double upper, sum, count;
    };
    std::vector<Block> blocks;
    for (std::size_t i : order) {
        if (!blocks.empty() && blocks.back().upper == confidence[i]) {  // equal confidences pool
            blocks.back().sum += correct[i];
            blocks.back().count += 1;
        } else {
            blocks.push_back({confidence[i], correct[i], 1});
        }
        while (blocks.size() > 1 && blocks[blocks.size() - 2].sum / blocks[blocks.size() - 2].count >= blocks.back().sum / blocks.back().count) {
            Block top = blocks.back();
            blocks.pop_back();
            blocks.back() = {top.upper, blocks.back().sum + top.sum, blocks.back().count + top.count};
        }
    }
    IsotonicMap map;
    for (const auto& b : blocks) {
        map.upper.push_back(b.upper);
        map.probability.push_back(b.sum / b.count);
    }
    return map;
}

double expected_calibration_error(std::span<const double> probability, std::span<const double> correct, std::size_t bins) {
    std::vector<double> sum_p(bins, 0.0), sum_y(bins, 0.0), count(bins, 0.0);
    for (std::size_t i = 0; i < probability.size(); ++i) {
        const auto b = std::min(bins - 1, static_cast<std::size_t>(std::clamp(probability[i], 0.0, 1.0) * static_cast<double>(bins)));
        sum_p[b] += probability[i];
        sum_y[b] += correct[i];
        count[b] += 1;
    }
    double ece = 0.0;
    for (std::size_t b = 0; b < bins; ++b) {
        if (count[b] > 0) ece += std::abs(sum_y[b] - sum_p[b]) / static_cast<double>(probability.size());
    }
    return ece;
}

}  // namespace hiro::policy
