#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/outcome.h"
#include "policy/confidence_estimator.h"

namespace hiro::policy {

// A logistic model of P(answer correct) over confidence signals, fitted on an
// outcome file. Its confidence is log P(correct): <= 0, higher = more
// confident, on the same scale as the other estimators, so a threshold T
// accepts answers the model believes correct with probability >= exp(T).
struct LogisticConfidenceModel {
    std::vector<std::string> features;  // estimator names, e.g. {"mean_logprob", "min_logprob"}
    std::vector<double> mean, scale;    // standardisation of each feature, from the fitting data
    std::vector<double> weights;
    double bias = 0.0;
    std::string fitted_on;              // the outcome file and model it was fitted on
    std::size_t fitted_queries = 0;

    double log_p_correct(std::span<const double> features) const;
};

// Signals below this are clamped before fitting and predicting: -inf ("no
// confidence") must still give a finite logit.
inline constexpr double signal_floor = -30.0;

// The features of one recorded outcome: a feature is read from `signals`, or
// from `confidence` when the file says its confidence is that signal (e.g.
// answer_logprob in the shared MMLU files). Throws an invalid_input Error
// naming the feature when the outcome lacks it.
std::vector<double> recorded_features(const core::OutcomeSet& set, const core::ModelOutcome& outcome,
                                      std::span<const std::string> features);

// Maximum-likelihood fit (standardised features, small L2 penalty, Newton
// iterations) of `model`'s correctness on the file's recorded signals.
LogisticConfidenceModel fit_logistic_confidence(const core::OutcomeSet& set, std::string_view model,
                                                std::vector<std::string> features);

void save_logistic_confidence(const LogisticConfidenceModel& model, const std::string& path);
LogisticConfidenceModel load_logistic_confidence(const std::string& path);

// The live estimator: computes each feature with its registered estimator
// from the answer's tokens, then the fitted model's log P(correct).
std::unique_ptr<ConfidenceEstimator> make_logistic_confidence(LogisticConfidenceModel model);

}  // namespace hiro::policy
