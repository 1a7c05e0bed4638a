// hiro calibrate: choose an N-tier cascade's thresholds on train to meet a
// target, and report what the target became on held-out queries.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/output_files.h"
#include "core/error.h"
#include "core/outcome_reader.h"
#include "core/price_table.h"
#include "eval/cascade_calibration.h"
#include "eval/cross_validation.h"
#include "eval/replay.h"
#include "eval/routed_calibration.h"
#include "eval/svg_chart.h"
#include "policy/confidence_calibration.h"
#include "policy/registry.h"

namespace hiro::cli {
namespace {

struct CalibrateArgs {
    std::string train, test, split, test_split, prices, target = "strong-0.01", method = "bootstrap", router, out, json, plot;
    std::vector<std::string> chain;
    std::size_t folds = 5;
    std::uint64_t seed = 0;
    double level = 0.9;
};

core::OutcomeSet load(const std::string& path, const std::string& split, const std::string& prices) {
    core::OutcomeSet set = core::read_outcomes(path);
    if (set.dropped > 0) spdlog::warn("{}: left out {} queries that lack some model's outcome ({})", path, set.dropped, set.first_dropped);
    if (!split.empty()) set = eval::subset(set, eval::rows_of_split(set, split));
    if (!prices.empty()) core::apply_prices(set, core::load_price_table(prices));
    return set;
}

// One fitted-on-train, measured-on-held-out pair.
struct Evaluation {
    std::string method;  // how it was tuned
    std::string policy;  // what it is
    double train_accuracy = 0, train_cost = 0;
    double train_gap_se = 0;  // how precisely train measures the gap to the last tier
    bool train_met = false;
    double accuracy = 0, cost_vs_strong = 0, cost_per_1k = 0, escalation = 0, strong_accuracy = 0;
    bool met = false;
};

Evaluation measure(const policy::PolicySpec& spec, const core::OutcomeSet& train, const core::OutcomeSet& held,
                   const eval::CalibrationTarget& target) {
    const auto policy = policy::make_policy(spec);
    const eval::ReplayResult r = eval::replay(*policy, held);
    const std::size_t strong = held.model_index(spec.tiers.back());
    Evaluation e;
    e.policy = r.policy;
    e.accuracy = r.accuracy;
    e.cost_per_1k = r.cost_per_query * 1000;
    e.cost_vs_strong = held.total_cost(strong) > 0 ? r.total_cost / held.total_cost(strong) : 0;
    e.escalation = r.escalation_rate;
    e.strong_accuracy = held.accuracy(strong);
    e.met = eval::meets_target(target, e.accuracy, e.cost_per_1k, e.escalation, e.strong_accuracy);
    e.train_gap_se = eval::gap_standard_error(eval::replay(*policy, train), train);
    return e;
}

// Held-out accuracy against cost (both means over the held-out pairs): each
// tier alone, each tuned policy, and the accuracy an accuracy target asks for.
void write_plot(const std::string& path, const std::vector<std::string>& chain,
                const std::vector<std::pair<core::OutcomeSet, core::OutcomeSet>>& pairs, const std::vector<std::vector<Evaluation>>& per_pair,
                const eval::CalibrationTarget& target) {
    auto mean_over_pairs = [&](auto of) {
        double sum = 0;
        for (std::size_t i = 0; i < pairs.size(); ++i) sum += of(i);
        return sum / static_cast<double>(pairs.size());
    };
    eval::SvgChart chart(fmt::format("Cascade {} tuned to '{}'", fmt::format("{}", fmt::join(chain, " -> ")), target.text),
                         fmt::format("cost relative to {} (held out)", chain.back()), "accuracy (held out)");
    chart.add_note("thresholds tuned on the train queries; every point measured on held-out queries");
    for (const auto& tier : chain) {
        const double accuracy = mean_over_pairs([&](std::size_t i) { return pairs[i].second.accuracy(pairs[i].second.model_index(tier)); });
        const double cost = mean_over_pairs([&](std::size_t i) {
            const auto& held = pairs[i].second;
            const double strong = held.total_cost(held.model_index(chain.back()));
            return strong > 0 ? held.total_cost(held.model_index(tier)) / strong : 0.0;
        });
        chart.add_point(cost, accuracy, tier, "#1f77b4");
    }
    for (std::size_t row = 0; row < per_pair[0].size(); ++row) {
        const double accuracy = mean_over_pairs([&](std::size_t i) { return per_pair[i][row].accuracy; });
        const double cost = mean_over_pairs([&](std::size_t i) { return per_pair[i][row].cost_vs_strong; });
        chart.add_point(cost, accuracy, per_pair[0][row].method, "#d62728");
    }
    if (target.kind == eval::CalibrationTarget::Kind::accuracy || target.kind == eval::CalibrationTarget::Kind::near_strong) {
        const double needed = target.kind == eval::CalibrationTarget::Kind::accuracy
                                  ? target.value
                                  : mean_over_pairs([&](std::size_t i) { return per_pair[i][0].strong_accuracy; }) - target.value;
        chart.add_line({{0.0, needed}, {1.0, needed}}, fmt::format("target: accuracy {:.4f}", needed), "#2ca02c");
    }
    chart.write(path);
    spdlog::info("wrote {}", path);
}

void run_calibrate(const CalibrateArgs& args) {
    const core::OutcomeSet all_train = load(args.train, args.split, args.prices);
    const eval::CalibrationTarget target = eval::parse_target(args.target);
    const eval::SearchMethod chosen = eval::parse_search_method(args.method);
    std::vector<std::string> chain = args.chain;
    if (chain.empty()) {
        for (std::size_t m = 0; m < all_train.models.size(); ++m) chain.push_back(all_train.models[m]);
        std::stable_sort(chain.begin(), chain.end(), [&](const auto& a, const auto& b) {
            return all_train.total_cost(all_train.model_index(a)) < all_train.total_cost(all_train.model_index(b));
        });
    }
    // Held-out pairs: the --test file, else stratified k-fold CV of --train.
    std::vector<std::pair<core::OutcomeSet, core::OutcomeSet>> pairs;
    std::string held_name;
    if (!args.test.empty()) {
        pairs.emplace_back(all_train, load(args.test, args.test_split, args.prices));
        held_name = "test file " + args.test;
    } else {
        for (const auto& fold : eval::stratified_folds(all_train, args.folds, args.seed)) {
            pairs.emplace_back(eval::subset(all_train, fold.train), eval::subset(all_train, fold.test));
        }
        held_name = fmt::format("{}-fold stratified CV of the train file (seed {})", args.folds, args.seed);
    }
    spdlog::info("calibrating {} on {} ({} queries) to '{}'; held out: {}", fmt::format("{}", fmt::join(chain, " -> ")), args.train,
                 all_train.size(), target.text, held_name);

    eval::CalibrationOptions options;
    options.level = args.level;
    options.seed = args.seed;
    std::vector<std::vector<Evaluation>> per_pair;  // [pair][row]
    for (const auto& [train, held] : pairs) {
        std::vector<Evaluation> rows;
        for (auto method : {eval::SearchMethod::empirical, eval::SearchMethod::bootstrap, eval::SearchMethod::model, eval::SearchMethod::bagging}) {
            options.method = method;
            const auto c = eval::calibrate_cascade(train, chain, target, options);
            Evaluation e = measure({"cascade", chain, c.thresholds, {}}, train, held, target);
            e.method = std::string(to_string(method));
            e.train_accuracy = c.accuracy;
            e.train_cost = c.cost / train.total_cost(train.model_index(chain.back()));
            e.train_met = c.target_met;
            rows.push_back(e);
        }
        if (!args.router.empty()) {
            options.method = chosen;
            const auto routed = eval::calibrate_routed(train, chain, args.router, target, options, args.folds);
            const double strong_cost = train.total_cost(train.model_index(chain.back()));
            Evaluation alone = measure(routed.router_alone, train, held, target);
            alone.method = args.router + " router";
            alone.train_accuracy = routed.router_train_accuracy;
            alone.train_cost = routed.router_train_cost / strong_cost;
            alone.train_met = routed.router_met;
            rows.push_back(alone);
            Evaluation e = measure(routed.route_cascade, train, held, target);
            e.method = "route+" + std::string(to_string(chosen));
            e.train_accuracy = routed.cascade.accuracy;
            e.train_cost = routed.cascade.cost / strong_cost;
            e.train_met = routed.cascade.target_met;
            rows.push_back(e);
        }
        per_pair.push_back(std::move(rows));
    }

    std::ostringstream table;
    table << fmt::format("cascade {} tuned to '{}' on {}; measured on {}\n", fmt::format("{}", fmt::join(chain, " -> ")), target.text,
                         args.train, held_name);
    table << fmt::format("  {:<18} {:>9} {:>9} {:>7} {:>6} | {:>9} {:>9} {:>9} {:>7} {:>9} {:>6}\n", "tuned by", "train acc", "cost/strg", "gap se", "met",
                         "held acc", "strong", "cost/strg", "saved", "escalated", "met");
    nlohmann::json report{{"train", args.train}, {"held_out", held_name}, {"chain", chain}, {"target", target.text}};
    // The row of the policy --out writes, and how precisely train measures its gap.
    const std::string written = (args.router.empty() ? "" : "route+") + std::string(to_string(chosen));
    double written_gap_se = 0.0;
    for (std::size_t row = 0; row < per_pair[0].size(); ++row) {
        std::vector<double> acc, strong, cost, esc, tacc, tcost, tse;
        std::size_t met = 0, tmet = 0;
        for (const auto& rows : per_pair) {
            const auto& e = rows[row];
            acc.push_back(e.accuracy);
            strong.push_back(e.strong_accuracy);
            cost.push_back(e.cost_vs_strong);
            esc.push_back(e.escalation);
            tacc.push_back(e.train_accuracy);
            tcost.push_back(e.train_cost);
            tse.push_back(e.train_gap_se);
            met += e.met ? 1 : 0;
            tmet += e.train_met ? 1 : 0;
        }
        const auto a = eval::spread_of(acc), c = eval::spread_of(cost);
        const auto& e0 = per_pair[0][row];
        if (e0.method == written) written_gap_se = eval::spread_of(tse).mean;
        table << fmt::format("  {:<18} {:>9.4f} {:>9.3f} {:>7.4f} {:>6} | {:>9.4f} {:>9.4f} {:>9.3f} {:>6.1f}% {:>9.3f} {:>6}\n", e0.method,
                             eval::spread_of(tacc).mean, eval::spread_of(tcost).mean, eval::spread_of(tse).mean,
                             fmt::format("{}/{}", tmet, pairs.size()), a.mean,
                             eval::spread_of(strong).mean, c.mean, 100 * (1 - c.mean),
                             eval::spread_of(esc).mean, fmt::format("{}/{}", met, pairs.size()));
        if (pairs.size() > 1) {
            table << fmt::format("  {:<18} {:>9} {:>9} {:>7} {:>6} | {:>9.4f} {:>9} {:>9.3f}   (sd over folds)\n", "", "", "", "", "", a.sd, "", c.sd);
        }
        nlohmann::json folds = nlohmann::json::array();
        for (const auto& rows : per_pair) {
            const auto& e = rows[row];
            folds.push_back({{"policy", e.policy}, {"train_accuracy", e.train_accuracy}, {"train_cost_vs_strong", e.train_cost},
                             {"train_met", e.train_met}, {"train_gap_se", e.train_gap_se}, {"accuracy", e.accuracy}, {"strong_accuracy", e.strong_accuracy},
                             {"cost_vs_strong", e.cost_vs_strong}, {"cost_per_1k_usd", e.cost_per_1k}, {"escalation", e.escalation}, {"met", e.met}});
        }
        report["results"].push_back({{"tuned_by", e0.method}, {"accuracy_mean", a.mean}, {"accuracy_sd", a.sd}, {"cost_vs_strong_mean", c.mean},
                                     {"cost_vs_strong_sd", c.sd}, {"met", met}, {"of", pairs.size()}, {"folds", folds}});
    }

    // Confidence calibration of each cascade tier: fitted on train, ECE held out.
    table << "confidence calibration (fitted on train, expected calibration error on held-out queries, 10 bins):\n";
    table << fmt::format("  {:<22} {:>10} {:>10} {:>10}\n", "tier", "raw exp()", "Platt", "isotonic");
    for (std::size_t t = 0; t + 1 < chain.size(); ++t) {
        std::vector<double> raw, platt, iso;
        for (const auto& [train, held] : pairs) {
            const std::size_t m = train.model_index(chain[t]);
            std::vector<double> conf, corr, hconf, hcorr;
            for (const auto& r : train.records) {
                conf.push_back(r.models[m].confidence.value_or(-INFINITY));
                corr.push_back(r.models[m].correct ? 1.0 : 0.0);
            }
            for (const auto& r : held.records) {
                hconf.push_back(r.models[m].confidence.value_or(-INFINITY));
                hcorr.push_back(r.models[m].correct ? 1.0 : 0.0);
            }
            const auto ps = policy::fit_platt(conf, corr);
            const auto is = policy::fit_isotonic(conf, corr);
            std::vector<double> p_raw, p_platt, p_iso;
            for (double c : hconf) {
                p_raw.push_back(std::exp(c));
                p_platt.push_back(ps(c));
                p_iso.push_back(is(c));
            }
            raw.push_back(policy::expected_calibration_error(p_raw, hcorr));
            platt.push_back(policy::expected_calibration_error(p_platt, hcorr));
            iso.push_back(policy::expected_calibration_error(p_iso, hcorr));
        }
        const double r = eval::spread_of(raw).mean, p = eval::spread_of(platt).mean, i = eval::spread_of(iso).mean;
        table << fmt::format("  {:<22} {:>10.4f} {:>10.4f} {:>10.4f}\n", chain[t], r, p, i);
        report["ece"].push_back({{"tier", chain[t]}, {"raw", r}, {"platt", p}, {"isotonic", i}});
    }
    // Whether the train split can certify the target at all.
    if (target.kind == eval::CalibrationTarget::Kind::near_strong && written_gap_se > target.value) {
        table << fmt::format("warning: on {} train queries the {} policy's accuracy gap to {} has a standard error of {:.4f}, more than the\n"
                             "  {:.4f} the target allows: held-out results scatter around the target by about that much (a larger train\n"
                             "  split narrows it; --method bootstrap with a higher --level buys a margin)\n",
                             pairs.front().first.size(), written, chain.back(), written_gap_se, target.value);
    }
    if (args.json != "-") std::cout << table.str();
    if (!args.json.empty()) write_json(args.json, report);
    if (!args.plot.empty()) write_plot(args.plot, chain, pairs, per_pair, target);

    if (!args.out.empty()) {
        // The written policy is tuned on every train query with the chosen method.
        options.method = chosen;
        policy::PolicySpec spec{"cascade", chain, {}, {}};
        if (args.router.empty()) {
            spec.thresholds = eval::calibrate_cascade(all_train, chain, target, options).thresholds;
        } else {
            spec = eval::calibrate_routed(all_train, chain, args.router, target, options, args.folds).route_cascade;
        }
        spec.confidence = all_train.confidence_signal;  // what the thresholds mean
        write_json(args.out, nlohmann::json(spec));
        spdlog::info("wrote {} ({} thresholds tuned by {} on all {} train queries)", args.out, spec.kind, args.method, all_train.size());
    }
}

}  // namespace

void add_calibrate_command(CLI::App& app) {
    auto args = std::make_shared<CalibrateArgs>();
    CLI::App* cmd = app.add_subcommand("calibrate", "Tune an N-tier cascade's thresholds on train to a target; report it held out");
    cmd->footer(
        "Choose the thresholds of an N-tier confidence cascade on the --train queries so that a target holds, and\n"
        "report what it became on held-out queries (--test, else seeded stratified k-fold CV of --train, with the\n"
        "spread over folds). Targets: accuracy>=X | strong-D (accuracy >= the last tier's - D) | cost<=USD per 1k\n"
        "queries | escalation<=SHARE. Every search is a coordinate search over each tier's confidence quantiles:\n"
        "  empirical  on the train queries as they are (overfits a few hundred queries);\n"
        "  bootstrap  the target must hold in --level of 200 bootstrap resamples of train (a margin sized by its noise);\n"
        "  model      on 20,000 draws from a probabilistic model of the tiers' joint confidence (Gaussian copula,\n"
        "             isotonic P(correct | confidence)), as rational cascade tuning does;\n"
        "  bagging    the empirical search on each of 200 resamples, then the median threshold per tier.\n"
        "All four are reported, each with the standard error of its accuracy gap to the last tier on train ('gap se':\n"
        "when it exceeds a strong-D target's D, the train split cannot tell meeting the target from missing it);\n"
        "--out writes the --method one, fitted on all of --train. Also reports each tier's\n"
        "expected calibration error raw, after Platt scaling and after isotonic regression (fitted on train).\n"
        "With --router METHOD (logistic, knn or mf), also fits a router on train and reports, on the same split, the\n"
        "router alone and route-then-cascade (the router picks the starting tier, the cascade goes up), both tuned to\n"
        "the target on the router's out-of-fold predictions for the train queries; --out then writes route-then-cascade.");
    cmd->add_option("--train", args->train, "outcome file to tune on (e.g. a *_train file)")->required();
    cmd->add_option("--test", args->test, "held-out outcome file (e.g. the *_test file); without it: cross-validation");
    cmd->add_option("--split", args->split, "use only --train queries whose \"split\" field is this");
    cmd->add_option("--test-split", args->test_split, "use only --test queries whose \"split\" field is this");
    cmd->add_option("--chain", args->chain, "cascade tiers, cheapest first (default: every model by cost)")->delimiter(',');
    cmd->add_option("--target", args->target, "what the cascade must achieve")->capture_default_str();
    cmd->add_option("--method", args->method, "search for the written policy: empirical, bootstrap, model or bagging")->capture_default_str();
    cmd->add_option("--level", args->level, "bootstrap: share of resamples that must meet the target")->capture_default_str();
    cmd->add_option("--router", args->router, "router method (logistic, knn, mf): adds router alone and route-then-cascade");
    cmd->add_option("--folds", args->folds, "cross-validation folds when there is no --test")->capture_default_str();
    cmd->add_option("--seed", args->seed, "seed of folds, resamples and model draws")->capture_default_str();
    cmd->add_option("--prices", args->prices, "YAML price table (USD per 1M tokens) for files without cost_usd");
    cmd->add_option("--out", args->out, "write the tuned policy file (JSON) for hiro eval / hiro serve");
    cmd->add_option("--json", args->json, "write the report as JSON ('-' = stdout)");
    cmd->add_option("--plot", args->plot, "write an SVG of held-out accuracy against cost: each tier alone, each tuned policy, the target");
    cmd->callback([args] { run_calibrate(*args); });
}

}  // namespace hiro::cli
