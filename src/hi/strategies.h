#pragma once

#include <string>
#include <vector>

#include "core/edge_profiles.h"

namespace hiro::hi {

// What the strategies need to know of one split, one entry per sample: which
// models were right, the decision modules' scores (higher = keep the answer
// on the device) and the measured remote inference time.
struct SplitSignals {
    std::vector<bool> tiny_correct, remote_correct, exit_correct;
    std::vector<double> tiny_confidence;  // calibrated max-softmax
    std::vector<double> tiny_keep;        // 1 - the logistic module's P(wrong)
    std::vector<double> exit_confidence;  // calibrated max-softmax of the early exit
    std::vector<double> remote_ms;        // measured on this machine, per sample

    std::size_t size() const { return tiny_correct.size(); }
};

// Per-image compute of each model (multiply-accumulates) and what travels.
struct ModelCosts {
    double tiny_macs = 0, remote_macs = 0, exit_macs = 0, early_exit_full_macs = 0;
    double remote_int8_bytes = 0;  // the remote model's weights at one byte each, to see if it fits a device
    double image_bytes = 784;
};

// One strategy on one device + link: the report's row.
struct StrategyRow {
    std::string strategy, setting;
    double accuracy = 0, mean_ms = 0, p95_ms = 0, energy_mj = 0;
    double offload_share = 0, exit_share = 0;
    bool fits_device = true;  // false: the model is larger than the device's memory
    bool meets_target = false;
};

// A decision rule on scores: keep the local answer when score >= threshold.
struct Thresholds {
    double hi = 0;                // max-softmax HI
    double logistic_cut = 0.5;    // top-2 logistic HI, tuned cut on P(wrong)
    double ee_exit = 2;           // EE-HI: leave at the exit when its confidence >= this
    double ee_hi = 0;             // EE-HI: offload after the final head when below this
};

// Smallest threshold (fewest offloads) whose accuracy on these signals reaches
// `target`, offloading the lowest scores first among `eligible` samples (the
// others answer with `fixed_correct`). +inf when even offloading all falls short.
double tune_threshold(const std::vector<double>& score, const std::vector<bool>& local_correct, const std::vector<bool>& remote_correct,
                      double target, const std::vector<bool>& eligible = {}, std::size_t fixed_correct = 0);

// Evaluates every strategy for one device + link on one split.
class StrategyEvaluator {
public:
    StrategyEvaluator(const core::DeviceProfile& device, const core::LinkProfile& link, const ModelCosts& costs, double target)
        : device_(device), link_(link), costs_(costs), target_(target) {}

    std::vector<StrategyRow> evaluate(const SplitSignals& s, const Thresholds& t) const;

    StrategyRow hi(const SplitSignals& s, double threshold) const;
    StrategyRow ee_hi(const SplitSignals& s, double exit_threshold, double hi_threshold) const;

    // EE-HI thresholds tuned on the validation split: for each exit threshold the
    // fewest offloads meeting the target; the pair with the lowest device energy.
    std::pair<double, double> tune_ee_hi(const SplitSignals& validation) const;

private:
    const core::DeviceProfile& device_;
    const core::LinkProfile& link_;
    const ModelCosts& costs_;
    double target_;
};

}  // namespace hiro::hi
