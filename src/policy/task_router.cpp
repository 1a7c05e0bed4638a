#include "policy/task_router.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hiro::policy {

TaskRouter::TaskRouter(std::vector<std::string> tasks, std::shared_ptr<const RouterModel> model)
    : tasks_(std::move(tasks)), model_(std::move(model)) {}

const std::string& TaskRouter::predict(std::string_view prompt) const {
    const std::vector<double> p = model_->predict(prompt);
    return tasks_[static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin())];
}

nlohmann::json TaskRouter::to_json() const { return {{"kind", "task_router"}, {"tasks", tasks_}, {"model", model_->to_json()}}; }

std::shared_ptr<const TaskRouter> load_task_router(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw core::Error(core::ErrorCode::not_found, "cannot open task router " + path + " (write one with `hiro router tasks --out`)");
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object() || j.value("kind", "") != "task_router" || !j.contains("tasks") || !j["tasks"].is_array()) {
        throw core::Error(core::ErrorCode::invalid_input, path + ": not a task router (`hiro router tasks --out` writes one)");
    }
    auto tasks = j["tasks"].get<std::vector<std::string>>();
    const nlohmann::json* model = j.contains("model") ? &j["model"] : nullptr;
    try {
        return std::make_shared<TaskRouter>(tasks, load_router_model(model, tasks.size(), "task_router"));
    } catch (const core::Error& e) {
        throw core::Error(core::ErrorCode::invalid_input, path + ": " + e.what());
    }
}

}  // namespace hiro::policy
