#include "eval/replay.h"

#include <limits>

#include "core/error.h"

namespace hiro::eval {
namespace {

// Answers a policy's questions from one recorded line.
class RecordedTiers final : public policy::TierAccess, public policy::RecordedOutcomes {
public:
    RecordedTiers(const std::vector<std::size_t>& models, const std::vector<std::vector<std::string>>& answers)
        : models_(models), answers_(answers) {}

    void set_record(const core::OutcomeRecord& record, std::size_t row) {
        record_ = &record;
        row_ = row;
    }

    policy::TierSignal ask(std::size_t position) override {
        const auto& o = record_->models[models_.at(position)];
        return {o.confidence.value_or(-std::numeric_limits<double>::infinity()), answers_[position][row_], o.correct};
    }

    bool correct(std::size_t position) const override { return record_->models[models_.at(position)].correct; }

private:
    const std::vector<std::size_t>& models_;
    const std::vector<std::vector<std::string>>& answers_;
    const core::OutcomeRecord* record_ = nullptr;
    std::size_t row_ = 0;
};

}  // namespace

std::size_t strongest_model(const core::OutcomeSet& set) {
    std::size_t best = 0;
    for (std::size_t m = 1; m < set.models.size(); ++m) {
        const double a = set.accuracy(m), b = set.accuracy(best);
        if (a > b || (a == b && set.total_cost(m) > set.total_cost(best))) best = m;
    }
    return best;
}

ReplayResult replay(const policy::Policy& policy, const core::OutcomeSet& set) {
    const auto& tiers = policy.tiers();
    std::vector<std::size_t> models;
    for (const auto& t : tiers) models.push_back(set.model_index(t));
    // Normalised answers, computed once per tier rather than on every ask.
    std::vector<std::vector<std::string>> answers(tiers.size());
    for (std::size_t p = 0; p < tiers.size(); ++p) {
        answers[p].reserve(set.size());
        for (const auto& r : set.records) answers[p].push_back(policy::agreement_key(r.models[models[p]].answer.value_or("")));
    }

    ReplayResult result;
    result.policy = policy.describe();
    result.tiers = tiers;
    result.queries = set.size();
    result.reached.assign(tiers.size(), 0.0);
    result.answered.assign(tiers.size(), 0.0);
    RecordedTiers access(models, answers);
    double correct = 0.0, latency = 0.0, escalated = 0.0;
    for (std::size_t row = 0; row < set.size(); ++row) {
        const auto& record = set.records[row];
        access.set_record(record, row);
        const policy::Decision d = policy.decide({record.id, record.prompt, &access}, access);
        for (const auto& asked : d.asked) {
            const std::size_t p = asked.position;
            const auto& o = record.models[models[p]];
            result.total_cost += o.cost_usd.value_or(0.0);
            latency += o.latency_ms.value_or(0.0);
            result.has_latency = result.has_latency || o.latency_ms.has_value();
            result.reached[p] += 1.0;
        }
        result.answered[d.chosen] += 1.0;
        result.chosen.push_back(d.chosen);
        correct += record.models[models[d.chosen]].correct ? 1.0 : 0.0;
        // Escalated: the answer came from a tier asked after an earlier answer was rejected.
        escalated += d.asked.size() > 1 && d.chosen == d.asked.back().position ? 1.0 : 0.0;
    }
    const auto n = static_cast<double>(set.size());
    result.accuracy = correct / n;
    result.cost_per_query = result.total_cost / n;
    result.mean_latency_ms = latency / n;
    result.escalation_rate = escalated / n;
    for (auto& r : result.reached) r /= n;
    for (auto& a : result.answered) a /= n;
    const double strongest_cost = set.total_cost(strongest_model(set));
    result.cost_vs_strongest = strongest_cost > 0 ? result.total_cost / strongest_cost : 0.0;
    return result;
}

}  // namespace hiro::eval
