#include "policy/adaptive_cascade.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace hiro::policy {

AdaptiveCascade::AdaptiveCascade(std::vector<std::string> tiers, std::vector<std::unique_ptr<ThresholdLearner>> learners,
                                 std::string learner, double lambda, double epsilon)
    : Policy(std::move(tiers)), learners_(std::move(learners)), learner_(std::move(learner)), lambda_(lambda), epsilon_(epsilon) {}

std::string AdaptiveCascade::describe() const {
    const auto now = thresholds();
    std::ostringstream out;
    out << "adaptive " << learner_ << " (lambda " << lambda_ << "): ";
    for (std::size_t i = 0; i < tiers().size(); ++i) {
        if (i) out << " -> ";
        out << tiers()[i];
        if (i < now.size()) out << " (>=" << now[i] << " now)";
    }
    return out.str();
}

Step AdaptiveCascade::next(const QueryView&, const Decision& so_far) const {
    if (so_far.asked.empty()) return Step::ask_tier(0);
    const Asked& last = so_far.asked.back();
    if (last.position + 1 == tiers().size()) return Step::answer_with(last.position, StopReason::last_tier);
    if (!escalates(last.position, last.signal.confidence)) return Step::answer_with(last.position, StopReason::confident);
    return Step::ask_tier(last.position + 1);
}

double AdaptiveCascade::escalation_probability(std::size_t position, double confidence) const {
    std::shared_lock lock(mutex_);
    return learners_.at(position)->escalation_probability(confidence);
}

bool AdaptiveCascade::escalates(std::size_t position, double confidence) const { return escalation_probability(position, confidence) > 0.5; }

std::vector<double> AdaptiveCascade::thresholds() const {
    std::shared_lock lock(mutex_);
    std::vector<double> out;
    for (const auto& l : learners_) out.push_back(l->threshold());
    return out;
}

double AdaptiveCascade::threshold(std::size_t position) const {
    std::shared_lock lock(mutex_);
    return learners_.at(position)->threshold();
}

void AdaptiveCascade::observe(std::size_t position, const ThresholdObservation& observation) {
    std::unique_lock lock(mutex_);
    learners_.at(position)->observe(observation);
}

nlohmann::json AdaptiveCascade::state() const {
    std::shared_lock lock(mutex_);
    nlohmann::json tiers = nlohmann::json::array();
    for (const auto& l : learners_) tiers.push_back(l->state());
    return {{"learner", learner_}, {"tiers", tiers}};
}

void AdaptiveCascade::restore(const nlohmann::json& state) {
    std::unique_lock lock(mutex_);
    if (!state.is_object() || state.value("learner", "") != learner_ || !state.contains("tiers") || state["tiers"].size() != learners_.size()) {
        throw core::Error(core::ErrorCode::invalid_input, "adaptive_cascade state: expected {learner: '" + learner_ + "', tiers: [" +
                                                              std::to_string(learners_.size()) + " learner states]}");
    }
    for (std::size_t i = 0; i < learners_.size(); ++i) learners_[i]->restore(state["tiers"][i]);
}

std::unique_ptr<AdaptiveCascade> build_adaptive_cascade(const PolicySpec& spec) {
    const auto fail = [](const std::string& what) { throw core::Error(core::ErrorCode::invalid_input, "policy 'adaptive_cascade': " + what); };
    if (spec.tiers.size() < 2) fail("needs at least two tiers");
    if (!spec.thresholds.empty() && spec.thresholds.size() != spec.tiers.size() - 1) {
        fail("warm-start thresholds must be one per tier but the last (" + std::to_string(spec.tiers.size() - 1) + "), got " +
             std::to_string(spec.thresholds.size()));
    }
    LearnerOptions options;
    const double lambda = spec.param("lambda", 0.1);
    const double epsilon = spec.param("epsilon", 0.1);
    const double resolution = spec.param("resolution", 64);
    if (!(lambda >= 0)) fail("lambda must be >= 0");
    if (!(epsilon >= 0 && epsilon <= 1)) fail("epsilon must be between 0 and 1");
    if (!(resolution >= 1 && resolution <= 100000)) fail("resolution must be between 1 and 100000");
    options.resolution = static_cast<std::size_t>(resolution);
    options.memory = spec.param("memory", 500);
    if (!(options.memory == 0 || options.memory >= 1)) fail("memory must be 0 (remember everything) or at least 1 query");
    if (spec.params.contains("escalation")) options.escalation_share = spec.param("escalation", 0);
    if (spec.params.contains("cost_per_1k")) options.cost_per_1k = spec.param("cost_per_1k", 0);
    const bool has_target = options.escalation_share || options.cost_per_1k;
    options.kind = has_target ? "target" : "exp_weights";
    if (spec.model && spec.model->is_object() && spec.model->contains("learner")) options.kind = (*spec.model)["learner"].get<std::string>();
    std::vector<std::unique_ptr<ThresholdLearner>> learners;
    for (std::size_t i = 0; i + 1 < spec.tiers.size(); ++i) {
        options.tier_index = i;
        options.warm_start = spec.thresholds.empty() ? std::nullopt : std::optional<double>(spec.thresholds[i]);
        learners.push_back(make_threshold_learner(options));
    }
    auto policy = std::make_unique<AdaptiveCascade>(spec.tiers, std::move(learners), options.kind, lambda, epsilon);
    if (spec.model && spec.model->is_object() && spec.model->contains("state")) policy->restore((*spec.model)["state"]);
    return policy;
}

std::unique_ptr<Policy> make_adaptive_cascade(const PolicySpec& spec) { return build_adaptive_cascade(spec); }

}  // namespace hiro::policy
