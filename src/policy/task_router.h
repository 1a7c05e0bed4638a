#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/router_model.h"

namespace hiro::policy {

// Predicts from the prompt alone which task a query is (the `task` field of
// outcome files: mmlu, gsm8k, triviaqa, ...), so that the gateway can send it
// to the endpoints tagged as able to answer that task. Its model is a router
// model whose "tiers" are the tasks: P(task) per task, one-vs-rest, over the
// same feature registry routers use.
class TaskRouter {
public:
    TaskRouter(std::vector<std::string> tasks, std::shared_ptr<const RouterModel> model);

    const std::string& predict(std::string_view prompt) const;
    std::vector<double> scores(std::string_view prompt) const { return model_->predict(prompt); }
    const std::vector<std::string>& tasks() const { return tasks_; }

    // {"kind": "task_router", "tasks": [...], "model": {...}}, what `hiro router tasks --out` writes.
    nlohmann::json to_json() const;

private:
    std::vector<std::string> tasks_;
    std::shared_ptr<const RouterModel> model_;
};

// Reads a task router file; throws a core::Error naming the file and what is wrong.
std::shared_ptr<const TaskRouter> load_task_router(const std::string& path);

}  // namespace hiro::policy
