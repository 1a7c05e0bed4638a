#include "eval/task_router_training.h"

#include <map>
#include <set>

#include "core/error.h"

namespace hiro::eval {

core::OutcomeSet task_labels(const std::vector<core::OutcomeSet>& files) {
    core::OutcomeSet labelled;
    std::set<std::string> tasks;
    for (const auto& f : files) {
        for (const auto& r : f.records) {
            if (r.task.empty()) throw core::Error(core::ErrorCode::invalid_input, f.source + ": query " + r.id + " has no \"task\" field");
            tasks.insert(r.task);
        }
        labelled.source += (labelled.source.empty() ? "" : ", ") + f.source;
    }
    labelled.models.assign(tasks.begin(), tasks.end());
    for (const auto& f : files) {
        for (const auto& r : f.records) {
            core::OutcomeRecord row;
            row.id = r.id;
            row.task = r.task;
            row.prompt = r.prompt;
            for (const auto& t : labelled.models) {
                core::ModelOutcome o;
                o.correct = t == r.task;
                row.models.push_back(o);
            }
            labelled.records.push_back(std::move(row));
        }
    }
    if (labelled.models.size() < 2) {
        throw core::Error(core::ErrorCode::invalid_input, labelled.source + ": a task router needs queries of at least two tasks");
    }
    return labelled;
}

std::shared_ptr<const policy::TaskRouter> train_task_router(const core::OutcomeSet& labelled, RouterTrainOptions options) {
    options.tiers = labelled.models;
    return std::make_shared<policy::TaskRouter>(labelled.models, train_router(labelled, options));
}

TaskAccuracy task_accuracy(const policy::TaskRouter& router, const core::OutcomeSet& labelled) {
    std::map<std::string, std::pair<std::size_t, std::size_t>> hits;  // task -> (right, all)
    std::size_t right = 0;
    for (const auto& r : labelled.records) {
        const bool ok = router.predict(r.prompt) == r.task;
        right += ok;
        hits[r.task].first += ok;
        ++hits[r.task].second;
    }
    TaskAccuracy a;
    a.queries = labelled.size();
    a.overall = a.queries ? static_cast<double>(right) / static_cast<double>(a.queries) : 0.0;
    for (const auto& [task, h] : hits) a.per_task.emplace_back(task, static_cast<double>(h.first) / static_cast<double>(h.second));
    return a;
}

}  // namespace hiro::eval
