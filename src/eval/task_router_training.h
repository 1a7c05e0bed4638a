#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/outcome.h"
#include "eval/router_training.h"
#include "policy/task_router.h"

namespace hiro::eval {

// Queries labelled with their task, from any outcome files (their models do
// not matter): an outcome set whose "models" are the tasks, correct where the
// query is of that task, which is what router training fits.
core::OutcomeSet task_labels(const std::vector<core::OutcomeSet>& files);

// Fits a task router on `labelled` (from task_labels) with a router method and features.
std::shared_ptr<const policy::TaskRouter> train_task_router(const core::OutcomeSet& labelled, RouterTrainOptions options);

// Share of queries whose task the router predicts, overall and per task.
struct TaskAccuracy {
    double overall = 0.0;
    std::vector<std::pair<std::string, double>> per_task;
    std::size_t queries = 0;
};
TaskAccuracy task_accuracy(const policy::TaskRouter& router, const core::OutcomeSet& labelled);

}  // namespace hiro::eval
