#pragma once

#include <cstdint>
#include <vector>

namespace hiro::hi {

// What a decision module sees of one local prediction: its logits and whether
// the local answer was right (known on the split it is fitted on).
struct LocalPredictions {
    std::vector<float> logits;         // class_count per sample
    std::vector<std::int32_t> labels;

    std::size_t size() const { return labels.size(); }
    int predicted(std::size_t i) const;
    bool correct(std::size_t i) const { return predicted(i) == labels[i]; }
};

// Softmax of one sample's logits divided by a temperature.
std::vector<double> softmax(const float* logits, double temperature);

// Max-softmax after temperature scaling (Guo et al. 2017): the temperature
// minimises the negative log-likelihood of the split it is fitted on; the
// sample is offloaded when its calibrated top probability is below `threshold`.
struct MaxSoftmaxModule {
    double temperature = 1.0;
    double threshold = 0.5;

    double confidence(const float* logits) const;  // calibrated max-softmax
    bool offload(const float* logits) const { return confidence(logits) < threshold; }
};

MaxSoftmaxModule fit_max_softmax(const LocalPredictions& validation);

// Logistic regression on the top-2 softmax probabilities, estimating the
// probability that the local answer is wrong; offload when it reaches `cut`
// (0.5 as fitted, or a cut tuned to an accuracy target).
struct Top2LogisticModule {
    double bias = 0, w_top1 = 0, w_top2 = 0;
    double cut = 0.5;

    double p_wrong(const float* logits) const;
    bool offload(const float* logits) const { return p_wrong(logits) >= cut; }
};

Top2LogisticModule fit_top2_logistic(const LocalPredictions& validation);

}  // namespace hiro::hi
