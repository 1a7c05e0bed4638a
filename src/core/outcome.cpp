#include "core/outcome.h"

#include <algorithm>

#include "core/error.h"

namespace hiro::core {

std::size_t OutcomeSet::model_index(std::string_view name) const {
    auto it = std::find(models.begin(), models.end(), name);
    if (it != models.end()) return static_cast<std::size_t>(it - models.begin());
    std::string known;
    for (const auto& m : models) known += (known.empty() ? "" : ", ") + m;
    throw Error(ErrorCode::not_found,
                "unknown model '" + std::string(name) + "' in " + source + "; it has: " + known);
}

namespace {
template <class Field>
bool all_have(const std::vector<OutcomeRecord>& records, std::size_t model, Field field) {
    return !records.empty() && std::all_of(records.begin(), records.end(), [&](const OutcomeRecord& r) {
        return (r.models[model].*field).has_value();
    });
}
}  // namespace

bool OutcomeSet::has_confidence(std::size_t m) const { return all_have(records, m, &ModelOutcome::confidence); }
bool OutcomeSet::has_cost(std::size_t m) const { return all_have(records, m, &ModelOutcome::cost_usd); }
bool OutcomeSet::has_latency(std::size_t m) const { return all_have(records, m, &ModelOutcome::latency_ms); }
bool OutcomeSet::has_answer(std::size_t m) const { return all_have(records, m, &ModelOutcome::answer); }

double OutcomeSet::accuracy(std::size_t m) const {
    if (records.empty()) return 0.0;
    std::size_t correct = 0;
    for (const auto& r : records) correct += r.models[m].correct ? 1 : 0;
    return static_cast<double>(correct) / static_cast<double>(records.size());
}

double OutcomeSet::total_cost(std::size_t m) const {
    double sum = 0.0;
    for (const auto& r : records) sum += r.models[m].cost_usd.value_or(0.0);
    return sum;
}

double OutcomeSet::mean_latency_ms(std::size_t m) const {
    if (records.empty()) return 0.0;
    double sum = 0.0;
    for (const auto& r : records) sum += r.models[m].latency_ms.value_or(0.0);
    return sum / static_cast<double>(records.size());
}

}  // namespace hiro::core
