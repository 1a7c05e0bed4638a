// hiro eval: replay policies over recorded outcomes and measure them.
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kinds_help.h"
#include "cli/online_eval.h"
#include "cli/output_files.h"
#include "core/outcome_reader.h"
#include "core/price_table.h"
#include "eval/accuracy_cost_plot.h"
#include "eval/eval_report.h"
#include "policy/registry.h"

namespace hiro::cli {
namespace {

struct EvalArgs {
    std::string file;
    std::string train;
    std::string weak, strong;
    std::vector<std::string> chain;
    std::vector<double> thresholds;
    std::vector<std::string> policies;
    std::string prices;
    std::string json;
    std::string plot;
    std::size_t seeds = 20;
    bool strict = false;
    OnlineEvalArgs online;
};

void run_eval(const EvalArgs& args) {
    if (args.online.online) {
        return run_online_eval({args.file, args.train, args.prices, args.json, args.plot, args.chain, args.policies, args.thresholds, args.seeds, args.strict},
                               args.online);
    }
    const auto start = std::chrono::steady_clock::now();
    core::OutcomeSet set = core::read_outcomes(args.file, {args.strict});
    spdlog::info("read {} queries x {} models from {} in {:.0f} ms", set.size(), set.models.size(), args.file,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (set.dropped > 0) {
        spdlog::warn("left out {} queries that lack some model's outcome (first: {}); --strict makes this an error",
                     set.dropped, set.first_dropped);
    }
    if (!args.prices.empty()) core::apply_prices(set, core::load_price_table(args.prices));

    eval::EvalOptions options;
    if (!args.weak.empty()) options.weak = args.weak;
    if (!args.strong.empty()) options.strong = args.strong;
    options.chain = args.chain;
    options.thresholds = args.thresholds;
    options.random_seeds = args.seeds;
    for (const auto& p : args.policies) options.policies.push_back(policy::parse_policy_argument(p));

    std::optional<core::OutcomeSet> train;
    if (!args.train.empty()) {
        train = core::read_outcomes(args.train, {args.strict});
        spdlog::info("read {} training queries from {}: thresholds are fitted there", train->size(), args.train);
        if (!args.prices.empty()) core::apply_prices(*train, core::load_price_table(args.prices));
        options.train = &*train;
    }

    const eval::EvalReport report = eval::evaluate(set, options);
    if (args.json != "-") {
        eval::print_table(std::cout, report);
    } else {
        for (const auto& w : report.warnings) spdlog::warn("{}", w);
    }
    if (!args.json.empty()) {
        write_json(args.json, nlohmann::json(report));
        if (args.json != "-") spdlog::info("wrote {}", args.json);
    }
    if (!args.plot.empty()) {
        eval::accuracy_cost_plot(report).write(args.plot);
        spdlog::info("wrote {}", args.plot);
    }
}

}  // namespace

void add_eval_command(CLI::App& app) {
    auto args = std::make_shared<EvalArgs>();
    CLI::App* cmd = app.add_subcommand("eval", "Replay cascades and routers over a recorded outcome file and measure them");
    cmd->add_option("file", args->file, "outcome file (hiro outcome JSONL, optionally gzipped)")->required();
    cmd->add_option("--train", args->train,
                    "pick the cascade threshold on this outcome file (e.g. the *_train one) instead of in-sample on FILE");
    cmd->add_option("--weak", args->weak, "the weak (cheap) model of the pair");
    cmd->add_option("--strong", args->strong, "the strong (expensive) model of the pair");
    cmd->add_option("--chain", args->chain, "models of an N-tier cascade, cheapest first")->delimiter(',');
    cmd->add_option("--thresholds", args->thresholds, "confidence thresholds of the chain, one per tier but the last")->delimiter(',');
    cmd->add_option("--policy", args->policies, "another policy to replay (repeatable); see below");
    cmd->add_option("--prices", args->prices, "YAML price table (USD per 1M tokens) for files without cost_usd");
    cmd->add_option("--json", args->json, "write the report as JSON to this file ('-' = stdout, no table)");
    cmd->add_option("--plot", args->plot, "write an SVG plot of accuracy vs cost to this file");
    cmd->add_flag("--strict", args->strict, "every line must list the same models (else lines lacking one are left out)");
    cmd->add_option("--seeds", args->seeds, "seeded shuffles for the random router's APGR (--online: seeded orders of the stream)")->capture_default_str();
    add_online_options(*cmd, args->online);
    cmd->footer(std::string("Replay cascades and routers over a recorded outcome file (JSONL or .jsonl.gz) and measure accuracy, cost,\n"
        "latency and escalations; sweep the weak -> strong cascade threshold for APGR, CPT(50%), CPT(80%), the\n"
        "Pareto front and AIQ. Defaults: strong = the most accurate model, weak = the cheapest (at equal cost the\n"
        "more accurate); the cascade row's threshold (PGR 80%) is picked on FILE itself (labelled in-sample) unless\n"
        "--train gives another file; the chain\n"
                            "curve runs through every model with confidence, cheapest first (a table row needs --thresholds).") + "\n" +
                        kinds_help("Policies (--policy KIND:TIER,TIER[:thresholds=T,...][:NAME=VALUE], or a policy file)", policy::policy_kinds()));
    cmd->callback([args] { run_eval(*args); });
}

}  // namespace hiro::cli
