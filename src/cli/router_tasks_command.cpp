// hiro router tasks: learn which task a query is, for capability routing to
// the edge endpoints tagged as able to answer it.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output_files.h"
#include "core/outcome_reader.h"
#include "eval/cross_validation.h"
#include "eval/task_router_training.h"
#include "policy/feature_extractor.h"

namespace hiro::cli {
namespace {

struct TaskArgs {
    std::vector<std::string> data, test;
    std::string method = "logistic", out, json;
    std::size_t folds = 5;
    std::uint64_t seed = 0;
    policy::FeatureOptions features;
};

core::OutcomeSet labelled(const std::vector<std::string>& paths) {
    std::vector<core::OutcomeSet> files;
    for (const auto& p : paths) files.push_back(core::read_outcomes(p));
    return eval::task_labels(files);
}

nlohmann::json accuracy_json(const eval::TaskAccuracy& a) {
    nlohmann::json per = nlohmann::json::object();
    for (const auto& [task, acc] : a.per_task) per[task] = acc;
    return {{"accuracy", a.overall}, {"queries", a.queries}, {"per_task", per}};
}

void run(const TaskArgs& args) {
    const core::OutcomeSet train = labelled(args.data);
    eval::RouterTrainOptions options;
    options.method = args.method;
    options.features = args.features;
    options.fit.seed = args.seed;
    nlohmann::json report = {{"tasks", train.models}, {"train_queries", train.size()}, {"method", args.method}};
    std::string held_out;
    eval::TaskAccuracy measured;
    if (!args.test.empty()) {
        held_out = "on the --test files";
        measured = eval::task_accuracy(*eval::train_task_router(train, options), labelled(args.test));
    } else {
        // Cross-validation: each fold's router predicts the queries it was not fitted on.
        held_out = fmt::format("{}-fold cross-validation of --data", args.folds);
        std::size_t right = 0;
        std::map<std::string, std::pair<double, double>> per;
        for (const auto& fold : eval::stratified_folds(train, args.folds, args.seed)) {
            const auto test = eval::subset(train, fold.test);
            const auto a = eval::task_accuracy(*eval::train_task_router(eval::subset(train, fold.train), options), test);
            right += static_cast<std::size_t>(a.overall * static_cast<double>(a.queries) + 0.5);
            for (const auto& r : test.records) ++per[r.task].second;
            for (const auto& [task, acc] : a.per_task) {
                std::size_t n = 0;
                for (const auto& r : test.records) n += r.task == task;
                per[task].first += acc * static_cast<double>(n);
            }
        }
        measured.queries = train.size();
        measured.overall = static_cast<double>(right) / static_cast<double>(train.size());
        for (const auto& [task, p] : per) measured.per_task.emplace_back(task, p.first / p.second);
    }
    report["held_out"] = held_out;
    report["measured"] = accuracy_json(measured);
    if (!args.out.empty()) {
        std::ofstream(args.out) << eval::train_task_router(train, options)->to_json().dump() << "\n";
        spdlog::info("wrote the task router fitted on all of --data to {}", args.out);
    }
    if (!args.json.empty()) {
        write_json(args.json, report);
        if (args.json == "-") return;
    }
    std::cout << fmt::format("task router ({}) over {} tasks, fitted on {} queries; accuracy {}:\n", args.method, train.models.size(),
                             train.size(), held_out);
    for (const auto& [task, acc] : measured.per_task) std::cout << fmt::format("  {:<20} {:6.3f}\n", task, acc);
    std::cout << fmt::format("  {:<20} {:6.3f}  ({} queries)\n", "all", measured.overall, measured.queries);
}

}  // namespace

void add_router_tasks_command(CLI::App& router) {
    auto args = std::make_shared<TaskArgs>();
    CLI::App* cmd = router.add_subcommand("tasks", "Fit a router that predicts a query's task, for sending it to endpoints tagged with that task");
    cmd->footer(
        "Learns, from the prompt alone, which task a query belongs to (the \"task\" field of outcome files), with the\n"
        "router methods and features of `hiro router train`. Accuracy is measured on queries it was not fitted on: the\n"
        "--test files, else stratified cross-validation of --data. --out writes the router fitted on all of --data;\n"
        "a serve policy's `task_router: FILE` uses it to send each query to the pool endpoints whose tags name its task.\n" +
        router_kinds_help());
    cmd->add_option("--data", args->data, "outcome files to train on, of two tasks or more (repeat or comma-separate)")->required()->delimiter(',');
    cmd->add_option("--test", args->test, "held-out outcome files (without: cross-validation)")->delimiter(',');
    cmd->add_option("--method", args->method, "router method (listed below)")->capture_default_str();
    cmd->add_option("--features", args->features.kinds, "feature kinds, stacked (listed below)")->delimiter(',')->capture_default_str();
    cmd->add_option("--folds", args->folds, "cross-validation folds")->capture_default_str()->check(CLI::Range(2, 100));
    cmd->add_option("--seed", args->seed, "seed of the folds and of training")->capture_default_str();
    cmd->add_option("--out", args->out, "write the task router (JSON) for a serve policy's task_router");
    cmd->add_option("--json", args->json, "write the report as JSON ('-' = stdout)");
    cmd->callback([args] { run(*args); });
}

}  // namespace hiro::cli
