#include "hi/strategies.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace hiro::hi {
namespace {

struct SampleCost {
    double ms = 0, joule = 0;
    bool correct = false, offloaded = false, exited = false;
};

// Mean, p95 and shares over per-sample costs.
template <class PerSample>
StrategyRow aggregate(std::string strategy, std::string setting, std::size_t n, double target, PerSample per_sample) {
    StrategyRow row{std::move(strategy), std::move(setting)};
    std::vector<double> ms(n);
    double correct = 0, joule = 0, offloaded = 0, exited = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const SampleCost c = per_sample(i);
        ms[i] = c.ms;
        correct += c.correct;
        joule += c.joule;
        offloaded += c.offloaded;
        exited += c.exited;
    }
    const double dn = static_cast<double>(n);
    row.accuracy = correct / dn;
    row.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / dn;
    std::nth_element(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(0.95 * (dn - 1)), ms.end());
    row.p95_ms = ms[static_cast<std::size_t>(0.95 * (dn - 1))];
    row.energy_mj = joule / dn * 1e3;
    row.offload_share = offloaded / dn;
    row.exit_share = exited / dn;
    row.meets_target = row.accuracy >= target;
    return row;
}

}  // namespace

double tune_threshold(const std::vector<double>& score, const std::vector<bool>& local_correct, const std::vector<bool>& remote_correct,
                      double target, const std::vector<bool>& eligible, std::size_t fixed_correct) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < score.size(); ++i) {
        if (eligible.empty() || eligible[i]) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return score[a] < score[b]; });
    const double n = static_cast<double>(score.size());
    double correct = static_cast<double>(fixed_correct);
    for (auto i : order) correct += local_correct[i];
    // Offloading the k lowest scores; a threshold cannot split equal scores, so only tie-block ends count.
    for (std::size_t k = 0; k <= order.size(); ++k) {
        const bool block_end = k == 0 || k == order.size() || score[order[k]] > score[order[k - 1]];
        if (block_end && correct / n >= target) return k == order.size() ? std::numeric_limits<double>::infinity() : score[order[k]];
        if (k < order.size()) correct += double(remote_correct[order[k]]) - double(local_correct[order[k]]);
    }
    return std::numeric_limits<double>::infinity();
}

StrategyRow StrategyEvaluator::hi(const SplitSignals& s, double threshold) const {
    const double local_ms = device_.compute_ms("tiny", costs_.tiny_macs);
    return aggregate("HI", "", s.size(), target_, [&](std::size_t i) {
        SampleCost c{local_ms, device_.active_power_w * local_ms / 1e3, s.tiny_correct[i]};
        if (s.tiny_confidence[i] < threshold) {
            const double wait = link_.transfer_ms(costs_.image_bytes) + s.remote_ms[i];
            c = {c.ms + wait, c.joule + link_.transfer_joule(costs_.image_bytes) + device_.idle_power_w * wait / 1e3, s.remote_correct[i], true};
        }
        return c;
    });
}

StrategyRow StrategyEvaluator::ee_hi(const SplitSignals& s, double exit_threshold, double hi_threshold) const {
    const double exit_ms = device_.compute_ms("tiny-exit", costs_.exit_macs);
    const double full_ms = device_.compute_ms("tiny-exit:continue", costs_.early_exit_full_macs);
    return aggregate("EE-HI", "", s.size(), target_, [&](std::size_t i) {
        if (s.exit_confidence[i] >= exit_threshold) return SampleCost{exit_ms, device_.active_power_w * exit_ms / 1e3, s.exit_correct[i], false, true};
        SampleCost c{full_ms, device_.active_power_w * full_ms / 1e3, s.tiny_correct[i]};
        if (s.tiny_confidence[i] < hi_threshold) {
            const double wait = link_.transfer_ms(costs_.image_bytes) + s.remote_ms[i];
            c = {c.ms + wait, c.joule + link_.transfer_joule(costs_.image_bytes) + device_.idle_power_w * wait / 1e3, s.remote_correct[i], true};
        }
        return c;
    });
}

std::pair<double, double> StrategyEvaluator::tune_ee_hi(const SplitSignals& v) const {
    std::pair<double, double> best{2.0, tune_threshold(v.tiny_confidence, v.tiny_correct, v.remote_correct, target_)};
    double best_energy = ee_hi(v, best.first, best.second).energy_mj;
    for (double exit_threshold : {0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999}) {
        std::vector<bool> continues(v.size());
        std::size_t exit_correct = 0;
        for (std::size_t i = 0; i < v.size(); ++i) {
            continues[i] = v.exit_confidence[i] < exit_threshold;
            if (!continues[i]) exit_correct += v.exit_correct[i];
        }
        const double hi_threshold = tune_threshold(v.tiny_confidence, v.tiny_correct, v.remote_correct, target_, continues, exit_correct);
        if (std::isinf(hi_threshold)) continue;
        const double energy = ee_hi(v, exit_threshold, hi_threshold).energy_mj;
        if (energy < best_energy) {
            best_energy = energy;
            best = {exit_threshold, hi_threshold};
        }
    }
    return best;
}

std::vector<StrategyRow> StrategyEvaluator::evaluate(const SplitSignals& s, const Thresholds& t) const {
    std::vector<StrategyRow> rows;
    const double tiny_ms = device_.compute_ms("tiny", costs_.tiny_macs);
    rows.push_back(aggregate("on-device", "tiny CNN", s.size(), target_,
                             [&](std::size_t i) { return SampleCost{tiny_ms, device_.active_power_w * tiny_ms / 1e3, s.tiny_correct[i]}; }));
    const double big_ms = device_.compute_ms("remote", costs_.remote_macs);
    rows.push_back(aggregate("on-device", "remote CNN on the device", s.size(), target_,
                             [&](std::size_t i) { return SampleCost{big_ms, device_.active_power_w * big_ms / 1e3, s.remote_correct[i]}; }));
    rows.back().fits_device = costs_.remote_int8_bytes <= device_.memory_bytes;
    rows.back().meets_target = rows.back().meets_target && rows.back().fits_device;
    rows.push_back(aggregate("full offload", "remote CNN", s.size(), target_, [&](std::size_t i) {
        const double wait = link_.transfer_ms(costs_.image_bytes) + s.remote_ms[i];
        return SampleCost{wait, link_.transfer_joule(costs_.image_bytes) + device_.idle_power_w * wait / 1e3, s.remote_correct[i], true};
    }));
    rows.push_back(hi(s, t.hi));
    rows.back().setting = "max-softmax";
    StrategyRow logistic = hi(SplitSignals{s.tiny_correct, s.remote_correct, s.exit_correct, s.tiny_keep, {}, {}, s.remote_ms}, 1.0 - t.logistic_cut);
    logistic.setting = "top-2 logistic, tuned cut";
    rows.push_back(logistic);
    StrategyRow half = hi(SplitSignals{s.tiny_correct, s.remote_correct, s.exit_correct, s.tiny_keep, {}, {}, s.remote_ms}, 0.5);
    half.setting = "top-2 logistic, cut 0.5";
    rows.push_back(half);
    rows.push_back(ee_hi(s, t.ee_exit, t.ee_hi));
    rows.back().setting = "exit + max-softmax";
    return rows;
}

}  // namespace hiro::hi
