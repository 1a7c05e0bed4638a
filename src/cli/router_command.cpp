// hiro router train: learn which model should answer each query, and measure
// the router on queries it was not trained on.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kinds_help.h"
#include "cli/output_files.h"
#include "core/error.h"
#include "core/outcome_reader.h"
#include "core/price_table.h"
#include "eval/cross_validation.h"
#include "eval/pareto.h"
#include "eval/replay.h"
#include "eval/router_evaluation.h"
#include "eval/router_selection.h"
#include "eval/router_training.h"
#include "eval/svg_chart.h"
#include "policy/feature_extractor.h"
#include "policy/quality_model.h"
#include "policy/registry.h"

namespace hiro::cli {
namespace {

struct RouterArgs {
    std::string data, test, split, prices, out, json, plot;
    std::vector<std::string> models;
    std::vector<std::string> methods{"logistic", "knn", "mf"};
    std::size_t folds = 5;
    bool nested = false;
    std::uint64_t seed = 0;
    double lambda = -1;
    policy::FitOptions fit;
    policy::FeatureOptions features;
};

eval::RouterTrainOptions train_options(const RouterArgs& args, const std::string& method, const std::vector<std::string>& tiers) {
    eval::RouterTrainOptions options;
    options.method = method;
    options.tiers = tiers;
    options.features = args.features;
    options.fit = args.fit;
    options.fit.seed = args.seed;
    return options;
}

core::OutcomeSet load(const std::string& path, const std::string& prices) {
    core::OutcomeSet set = core::read_outcomes(path);
    if (set.dropped > 0) spdlog::warn("{}: left out {} queries that lack some model's outcome ({})", path, set.dropped, set.first_dropped);
    if (!prices.empty()) core::apply_prices(set, core::load_price_table(prices));
    return set;
}

// Cheapest first: by recorded cost, else by accuracy (the usual proxy).
std::vector<std::string> default_tiers(const core::OutcomeSet& set) {
    std::vector<std::size_t> idx(set.models.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    bool costed = true;
    for (std::size_t m : idx) costed = costed && set.has_cost(m);
    std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) {
        return costed ? set.total_cost(a) < set.total_cost(b) : set.accuracy(a) < set.accuracy(b);
    });
    std::vector<std::string> tiers;
    for (std::size_t m : idx) tiers.push_back(set.models[m]);
    return tiers;
}

// What the routers are trained on and measured against.
struct RouterStudy {
    core::OutcomeSet data;
    std::optional<core::OutcomeSet> test;
    std::vector<std::string> tiers;     // cheapest first
    std::vector<eval::Fold> folds;      // without a test file
    std::string held_name;              // "test file" or "5-fold CV"
    bool costed = false;                // every tier has recorded costs on the held-out queries
    std::vector<double> tier_cost;      // relative, from the training queries
    double cost_lo = 0.0, cost_hi = 0.0;  // AIQ's range: the cheapest and costliest tier on the held-out queries

    const core::OutcomeSet& held() const { return test ? *test : data; }
};

RouterStudy prepare(const RouterArgs& args) {
    RouterStudy s;
    s.data = load(args.data, args.prices);
    if (!args.split.empty()) s.data = eval::subset(s.data, eval::rows_of_split(s.data, args.split));
    if (!args.test.empty()) s.test = load(args.test, args.prices);
    s.tiers = args.models.empty() ? default_tiers(s.data) : args.models;
    if (s.tiers.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "--models needs at least two models, cheapest first");
    if (!s.test) s.folds = eval::stratified_folds(s.data, args.folds, args.seed);
    s.held_name = s.test ? "test file" : fmt::format("{}-fold CV", args.folds);
    spdlog::info("{} training queries, {} tiers ({} -> {}); held out: {}", s.data.size(), s.tiers.size(), s.tiers.front(), s.tiers.back(),
                 s.test ? args.test : fmt::format("{}-fold stratified cross-validation (seed {})", args.folds, args.seed));
    const core::OutcomeSet& held = s.held();
    s.costed = true;
    s.cost_lo = 1e300;
    for (const auto& t : s.tiers) {
        const std::size_t m = held.model_index(t);
        s.costed = s.costed && held.has_cost(m);
        s.cost_lo = std::min(s.cost_lo, held.total_cost(m));
        s.cost_hi = std::max(s.cost_hi, held.total_cost(m));
    }
    s.tier_cost = eval::relative_tier_cost(s.data, s.tiers);
    return s;
}

// One method's held-out figures.
struct MethodResult {
    std::string method;
    std::vector<double> fold_apgr, fold_cpt50, fold_cpt80;  // per test fold (or the one test file)
    eval::Spread apgr;
    double aiq = 0.0;
    std::vector<eval::UtilityPoint> curve;  // on held-out predictions
    double seconds = 0.0;
};

MethodResult measure_method(const RouterStudy& s, const RouterArgs& args, const std::string& method) {
    const auto start = std::chrono::steady_clock::now();
    const eval::FoldTrainer fit_and_predict = eval::router_trainer(train_options(args, method, s.tiers));
    MethodResult r{method, {}, {}, {}, {}, 0.0, {}, 0.0};
    auto add_fold = [&](const core::OutcomeSet& set, const eval::Predictions& p) {
        const auto m = eval::router_metrics(set, s.tiers, p);
        r.fold_apgr.push_back(m.apgr);
        r.fold_cpt50.push_back(m.cpt50);
        r.fold_cpt80.push_back(m.cpt80);
    };
    eval::Predictions p;
    if (s.test) {
        p = fit_and_predict(s.data, *s.test);
        add_fold(*s.test, p);
    } else {
        p = eval::out_of_fold_predictions(s.data, s.folds, fit_and_predict);
        for (const auto& fold : s.folds) {
            eval::Predictions fp;
            for (std::size_t row : fold.test) fp.push_back(p[row]);
            add_fold(eval::subset(s.data, fold.test), fp);
        }
    }
    r.apgr = eval::spread_of(r.fold_apgr);
    r.curve = eval::utility_curve(s.held(), s.tiers, p, s.tier_cost);
    if (s.costed) r.aiq = eval::aiq(eval::cost_points(r.curve), s.cost_lo, s.cost_hi);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("{}: held-out APGR {:.3f} (sd {:.3f}) in {:.1f} s", method, r.apgr.mean, r.apgr.sd, r.seconds);
    return r;
}

// The written router's lambda: given, or the cheapest held-out point within
// one accuracy point of the best held-out accuracy.
double written_lambda(const MethodResult& best, bool costed, double given) {
    if (given >= 0) return given;
    double top = 0, cheapest = 1e300, lambda = 0;
    for (const auto& pt : best.curve) top = std::max(top, pt.accuracy);
    for (const auto& pt : best.curve) {
        const double c = costed ? pt.cost : pt.share.back();
        if (pt.accuracy >= top - 0.01 && c < cheapest) {
            cheapest = c;
            lambda = pt.lambda;
        }
    }
    return lambda;
}

// The yardstick for AIQ: picking one fixed model per budget (the hull of the models alone).
double models_aiq(const RouterStudy& s) {
    std::vector<eval::CostAccuracy> alone;
    for (const auto& t : s.tiers) alone.push_back({s.held().total_cost(s.held().model_index(t)), s.held().accuracy(s.held().model_index(t)), t});
    return s.costed ? eval::aiq(alone, s.cost_lo, s.cost_hi) : 0.0;
}

std::string format_table(const RouterStudy& s, const std::vector<MethodResult>& results, const MethodResult& best,
                         const std::optional<eval::NestedSelection>& nested) {
    std::string table = fmt::format("router {} -> {} over {} tiers; {} training queries; held out: {}\n", s.tiers.front(), s.tiers.back(),
                                    s.tiers.size(), s.data.size(), s.held_name);
    table += fmt::format("  {:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}\n", "method", "APGR", "sd", "min", "max", "CPT(50%)", "CPT(80%)",
                         "AIQ", "seconds");
    for (const auto& r : results) {
        auto over_folds = [&](double v) { return r.fold_apgr.size() > 1 ? fmt::format("{:.3f}", v) : std::string("-"); };
        table += fmt::format("  {:<10} {:>8.3f} {:>8} {:>8} {:>8} {:>8.3f} {:>8.3f} {:>9} {:>8.1f}\n", r.method, r.apgr.mean, over_folds(r.apgr.sd),
                             over_folds(r.apgr.min), over_folds(r.apgr.max), eval::spread_of(r.fold_cpt50).mean, eval::spread_of(r.fold_cpt80).mean,
                             s.costed ? fmt::format("{:.4f}", r.aiq) : "-", r.seconds);
    }
    if (nested) {
        const auto spread = eval::spread_of(nested->fold_apgr);
        table += fmt::format("  {:<10} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}   (method picked per fold by inner CV: {})\n", "nested", spread.mean,
                             spread.sd, spread.min, spread.max, fmt::join(nested->picked, ", "));
    }
    table += fmt::format("  {:<10} {:>8.3f} {:>8} {:>8} {:>8} {:>8.3f} {:>8.3f}   (expected, for a random router)\n", "random", 0.5, "", "", "", 0.5, 0.8);
    if (s.costed) {
        table += fmt::format("  {:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9.4f}   (one fixed model per budget)\n", "models", "-", "", "", "", "", "",
                             models_aiq(s));
    }
    table += fmt::format("best: {} by {} (APGR is between {} and {}; AIQ over every tier's cost range)\n", best.method, s.costed ? "AIQ" : "APGR",
                         s.tiers.front(), s.tiers.back());
    return table;
}

nlohmann::json report_json(const RouterStudy& s, const RouterArgs& args, const std::vector<MethodResult>& results, const MethodResult& best,
                           double lambda, const std::optional<eval::NestedSelection>& nested) {
    nlohmann::json report{{"data", args.data}, {"held_out", s.held_name}, {"tiers", s.tiers}, {"best", best.method}, {"lambda", lambda}};
    if (s.costed) report["models_aiq"] = models_aiq(s);
    if (nested) {
        report["nested"] = {{"picked", nested->picked}, {"inner_apgr", nested->inner_apgr}, {"fold_apgr", nested->fold_apgr},
                            {"apgr_mean", eval::spread_of(nested->fold_apgr).mean}};
    }
    for (const auto& r : results) {
        nlohmann::json curve = nlohmann::json::array();
        for (const auto& pt : r.curve) curve.push_back({{"lambda", pt.lambda}, {"accuracy", pt.accuracy}, {"cost_usd", pt.cost}, {"share", pt.share}});
        report["methods"].push_back({{"method", r.method}, {"fold_apgr", r.fold_apgr}, {"apgr_mean", r.apgr.mean}, {"apgr_sd", r.apgr.sd},
                                     {"fold_cpt50", r.fold_cpt50}, {"fold_cpt80", r.fold_cpt80},
                                     {"aiq", s.costed ? nlohmann::json(r.aiq) : nlohmann::json(nullptr)}, {"seconds", r.seconds}, {"curve", curve}});
    }
    return report;
}

// Each method's lambda curve against every model alone and the oracle.
void write_plot(const RouterStudy& s, const std::vector<MethodResult>& results, const std::string& data, const std::string& path) {
    const core::OutcomeSet& held = s.held();
    const double per_1k = 1000.0 / static_cast<double>(held.size());
    eval::SvgChart chart(fmt::format("Utility router (argmax quality - lambda x cost) — {}", std::filesystem::path(data).filename().string()),
                         s.costed ? "cost (USD per 1,000 queries)" : "share of queries sent to the last tier", "accuracy");
    chart.add_note(fmt::format("held out: {}; {} queries", s.held_name, held.size()));
    auto x_of = [&](const eval::UtilityPoint& pt) { return s.costed ? pt.cost * per_1k : pt.share.back(); };
    const char* colors[] = {"#d62728", "#ff7f0e", "#9467bd"};
    for (std::size_t i = 0; i < results.size(); ++i) {
        std::vector<std::pair<double, double>> line;
        for (const auto& pt : results[i].curve) line.emplace_back(x_of(pt), pt.accuracy);
        std::sort(line.begin(), line.end());
        chart.add_line(std::move(line), s.costed ? fmt::format("{} router (AIQ {:.3f})", results[i].method, results[i].aiq)
                                                 : fmt::format("{} router (APGR {:.3f})", results[i].method, results[i].apgr.mean),
                       colors[i % 3]);
    }
    for (std::size_t i = 0; i < s.tiers.size(); ++i) {
        const std::size_t m = held.model_index(s.tiers[i]);
        chart.add_point(s.costed ? held.total_cost(m) * per_1k : (i + 1 == s.tiers.size() ? 1.0 : 0.0), held.accuracy(m), s.tiers[i], "#1f77b4");
    }
    const auto oracle = eval::replay(*policy::make_policy({"oracle", s.tiers, {}, {}}), held);
    chart.add_point(s.costed ? oracle.total_cost * per_1k : oracle.answered.back(), oracle.accuracy, "oracle (upper bound)", "#2ca02c");
    chart.write(path);
    spdlog::info("wrote {}", path);
}

void run_router_train(const RouterArgs& args) {
    if (args.nested && !args.test.empty()) {
        throw core::Error(core::ErrorCode::invalid_input, "--nested measures the choice of method by cross-validation; drop --test");
    }
    const RouterStudy s = prepare(args);
    std::vector<MethodResult> results;
    for (const auto& method : args.methods) results.push_back(measure_method(s, args, method));
    // Best by AIQ over the whole cost range when there are costs, else by APGR.
    const MethodResult& best = *std::max_element(results.begin(), results.end(), [&](const auto& a, const auto& b) {
        return s.costed ? a.aiq < b.aiq : a.apgr.mean < b.apgr.mean;
    });
    const double lambda = written_lambda(best, s.costed, args.lambda);

    std::optional<eval::NestedSelection> nested;
    if (args.nested) {
        nested = eval::nested_router_selection(s.data, s.folds, args.folds, args.seed, args.methods, train_options(args, args.methods.front(), s.tiers));
        for (std::size_t f = 0; f < s.folds.size(); ++f) {
            spdlog::info("nested fold {}/{}: inner CV picked {} (inner APGR {:.3f}); outer APGR {:.3f}", f + 1, s.folds.size(), nested->picked[f],
                         nested->inner_apgr[f], nested->fold_apgr[f]);
        }
    }

    if (args.json != "-") std::cout << format_table(s, results, best, nested);
    if (!args.json.empty()) write_json(args.json, report_json(s, args, results, best, lambda, nested));
    if (!args.plot.empty()) write_plot(s, results, args.data, args.plot);
    if (!args.out.empty()) {
        const auto model = eval::train_router(s.data, train_options(args, best.method, s.tiers));  // every training query; nothing from --test
        write_json(args.out, nlohmann::json(eval::router_spec(*model, s.tiers, lambda)));
        spdlog::info("wrote {} ({} router fitted on all {} training queries, lambda {:.4g})", args.out, best.method, s.data.size(), lambda);
    }
}

}  // namespace

std::string router_kinds_help() {
    return kinds_help("Features (--features, stacked side by side)", policy::feature_kinds()) +
           kinds_help("Methods (--method)", policy::quality_model_kinds());
}

void add_router_command(CLI::App& app) {
    CLI::App* router = app.add_subcommand("router", "Train and measure routers that pick a model before any model runs");
    router->require_subcommand(1);
    add_router_tasks_command(*router);
    auto args = std::make_shared<RouterArgs>();
    CLI::App* cmd = router->add_subcommand("train", "Fit routers on recorded outcomes and report them on held-out queries");
    cmd->footer(
        "Fit routers that predict, from the prompt alone, the probability that each model answers correctly, and route\n"
        "by argmax(quality - lambda x cost), from the features below. Every figure is measured on queries\n"
        "the router never saw: the --test file when given, else seeded stratified k-fold cross-validation of --data\n"
        "(mean, sd, min and max over folds). APGR is RouteLLM's, between the first and last of --models (random = 0.5);\n"
        "AIQ is RouterBench's area under the lambda curve. --out writes the best method fitted on all of --data, a\n"
        "policy file that `hiro eval --policy` loads.\n" +
        router_kinds_help());
    cmd->add_option("--data", args->data, "outcome file to train on (JSONL, optionally gzipped)")->required();
    cmd->add_option("--split", args->split, "use only the queries whose \"split\" field is this (e.g. train)");
    cmd->add_option("--test", args->test, "held-out outcome file (e.g. the *_test file); without it: cross-validation");
    cmd->add_option("--models", args->models, "tiers, cheapest first (default: every model, by cost or accuracy)")->delimiter(',');
    cmd->add_option("--method", args->methods, "router methods to fit and compare (listed below)")->delimiter(',')->capture_default_str();
    cmd->add_option("--features", args->features.kinds, "feature kinds, stacked (listed below)")->delimiter(',')->capture_default_str();
    cmd->add_option("--embedding-model", args->features.embedding_model, "GGUF model whose prompt embeddings are the 'embedding' features");
    cmd->add_option("--folds", args->folds, "cross-validation folds")->capture_default_str();
    cmd->add_flag("--nested", args->nested,
                  "also measure 'pick the best method' itself: nested CV, the method chosen on inner folds of each training part");
    cmd->add_option("--seed", args->seed, "seed of the folds and of training")->capture_default_str();
    cmd->add_option("--lambda", args->lambda, "lambda of the written router (default: the cheapest held-out point within 0.01 of the best accuracy)");
    cmd->add_option("--l2", args->fit.l2, "L2 weight decay of logistic regression and MF")->capture_default_str();
    cmd->add_option("--epochs", args->fit.epochs, "passes over the training queries (logistic, mf)")->capture_default_str();
    cmd->add_option("--neighbours", args->fit.neighbours, "k of kNN")->capture_default_str();
    cmd->add_option("--rank", args->fit.rank, "rank of MF's query and model embeddings")->capture_default_str();
    cmd->add_option("--prices", args->prices, "YAML price table (USD per 1M tokens) for files without cost_usd");
    cmd->add_option("--out", args->out, "write the trained router as a policy file (JSON)");
    cmd->add_option("--json", args->json, "write the report as JSON ('-' = stdout)");
    cmd->add_option("--plot", args->plot, "write an SVG of the lambda curves against each model and the oracle");
    cmd->callback([args] { run_router_train(*args); });
}

}  // namespace hiro::cli
