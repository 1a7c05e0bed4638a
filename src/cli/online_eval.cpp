// hiro eval --online: stream an outcome file through a self-tuning cascade.
#include "cli/online_eval.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/output_files.h"
#include "core/error.h"
#include "core/outcome_reader.h"
#include "core/price_table.h"
#include "eval/cascade_calibration.h"
#include "eval/online_report.h"

namespace hiro::cli {
namespace {

core::OutcomeSet load(const std::string& path, const OnlineEvalInput& input) {
    core::OutcomeSet set = core::read_outcomes(path, {input.strict});
    if (set.dropped > 0) spdlog::warn("{}: left out {} queries that lack some model's outcome (first: {})", path, set.dropped, set.first_dropped);
    if (!input.prices.empty()) core::apply_prices(set, core::load_price_table(input.prices));
    return set;
}

}  // namespace

void add_online_options(CLI::App& cmd, OnlineEvalArgs& args) {
    cmd.add_flag("--online", args.online,
                 "stream FILE in --seeds seeded orders through an adaptive_cascade over --chain (warm-started from --thresholds, or "
                 "from a cascade --policy file) and report its loss and regret against fixed thresholds: those, or with --train the "
                 "thresholds of least loss on that file (see docs/online.md)");
    cmd.add_option("--feedback", args.feedback, "--online: full (every tier's correctness) or realistic (labels for escalated queries + verification)")
        ->capture_default_str();
    cmd.add_option("--learner", args.learner, "--online: exp_weights (default), lcb, or target (with --target)");
    cmd.add_option("--lambda", args.lambda, "--online: loss of one escalation, in wrong answers")->capture_default_str();
    cmd.add_option("--epsilon", args.epsilon, "--online, realistic feedback: share of accepted answers verified with the next tier")->capture_default_str();
    cmd.add_option("--memory", args.memory, "--online, exp_weights: losses fade by 1 - 1/MEMORY per query, to follow drift (0: never)")
        ->capture_default_str();
    cmd.add_option("--drift", args.drift, "--online: after FILE, stream this outcome file, or 'degrade:SHARE' (FILE with a seeded SHARE of the "
                                          "first tier's correct answers turned wrong)");
    cmd.add_option("--target", args.target, "--online: the target controller's target, escalation<=SHARE or cost<=USD_PER_1K");
}

void run_online_eval(const OnlineEvalInput& input, const OnlineEvalArgs& args) {
    eval::OnlineOptions options;
    options.feedback = eval::parse_feedback(args.feedback);
    options.orders = input.orders;
    policy::PolicySpec& spec = options.policy;
    spec.kind = "adaptive_cascade";
    spec.tiers = input.chain;
    spec.thresholds = input.thresholds;
    if (!input.policies.empty()) {
        const policy::PolicySpec given = policy::parse_policy_argument(input.policies.front());
        if (given.kind != "cascade") throw core::Error(core::ErrorCode::invalid_input, "--online --policy takes a cascade policy file (its tiers and thresholds)");
        spec.tiers = given.tiers;
        spec.thresholds = given.thresholds;
    }
    if (spec.tiers.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "--online needs --chain (2 or 3 models, cheapest first) or a cascade --policy file");
    if (!spec.thresholds.empty()) options.fixed = spec.thresholds;
    spec.params["lambda"] = args.lambda;
    spec.params["epsilon"] = args.epsilon;
    spec.params["memory"] = args.memory;
    if (!args.target.empty()) {
        const eval::CalibrationTarget target = eval::parse_target(args.target);
        if (target.kind == eval::CalibrationTarget::Kind::escalation) spec.params["escalation"] = target.value;
        else if (target.kind == eval::CalibrationTarget::Kind::cost) spec.params["cost_per_1k"] = target.value;
        else throw core::Error(core::ErrorCode::invalid_input, "--online --target must be escalation<=SHARE or cost<=USD_PER_1K");
    }
    if (!args.learner.empty()) spec.model = std::make_shared<const nlohmann::json>(nlohmann::json{{"learner", args.learner}});

    const core::OutcomeSet first = load(input.file, input);
    if (!input.train.empty()) {
        options.fixed = eval::fit_fixed_thresholds(load(input.train, input), spec.tiers, args.lambda);
        spdlog::info("fixed thresholds to compare with: the least loss on {}", input.train);
    }
    std::optional<core::OutcomeSet> second;
    const auto name = [](const std::string& path) { return std::filesystem::path(path).filename().string(); };
    std::string stream = name(input.file);
    if (args.drift.starts_with("degrade:")) {
        double share = 0;
        try {
            share = std::stod(args.drift.substr(8));
        } catch (const std::exception&) {
            share = -1;
        }
        if (!(share > 0 && share <= 1)) throw core::Error(core::ErrorCode::invalid_input, "--drift degrade:SHARE needs a share in (0, 1]");
        second = eval::degrade_model(first, spec.tiers.front(), share, 0);
        stream += fmt::format(" then the same with {:g}% of {}'s correct answers turned wrong", 100 * share, spec.tiers.front());
    } else if (!args.drift.empty()) {
        second = load(args.drift, input);
        stream += " then " + name(args.drift);
    }
    const eval::OnlineReplay replay = eval::replay_online(first, second ? &*second : nullptr, options);
    const eval::OnlineSummary summary = eval::summarize(replay);
    if (input.json != "-") eval::print_online_table(std::cout, replay, summary, stream);
    if (!input.json.empty()) write_json(input.json, eval::online_json(replay, summary, stream));
    if (!input.plot.empty()) {
        eval::online_plot(replay, summary, stream).write(input.plot);
        spdlog::info("wrote {}", input.plot);
    }
}

}  // namespace hiro::cli
