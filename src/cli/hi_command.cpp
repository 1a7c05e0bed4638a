// hiro hi: Fashion-MNIST hierarchical inference end to end on this machine.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output_files.h"
#include "core/error.h"
#include "core/outcome_reader.h"
#include "eval/online_report.h"
#include "eval/svg_chart.h"
#include "hi/hi_report.h"
#include "policy/adaptive_cascade.h"

namespace hiro::cli {
namespace {

namespace fs = std::filesystem;

struct HiArgs {
    hi::HiOptions options;
    double target = 0;
    std::string json, plot, online_plot;
    bool online = false;
};

// The adaptive cascade on the per-image test outcomes: offload (escalate)
// or not per image, labels only for offloaded images (plus verification);
// started cold on the test stream, and on the test stream followed by the
// same images with the tiny model degraded (a seeded 40% of its right
// answers turned wrong), against the threshold of least loss on validation
// kept fixed. Each replay's regret curve goes to PLOT-stationary.svg and
// PLOT-drift.svg when a plot path is given.
nlohmann::json run_online(const hi::HiReport& report, bool print, const std::string& plot) {
    const std::vector<std::string> chain{"tiny", "remote"};
    eval::OnlineOptions options;
    options.policy = {"adaptive_cascade", chain, {}, {}};
    const double lambda = policy::build_adaptive_cascade(options.policy)->lambda();
    options.fixed = eval::fit_fixed_thresholds(core::read_outcomes(report.validation_outcome_file), chain, lambda);
    const core::OutcomeSet test = core::read_outcomes(report.outcome_file);
    const core::OutcomeSet degraded = eval::degrade_model(test, "tiny", 0.4, 0);
    nlohmann::json out;
    for (const bool drift : {false, true}) {
        const eval::OnlineReplay replay = eval::replay_online(test, drift ? &degraded : nullptr, options);
        const eval::OnlineSummary summary = eval::summarize(replay);
        const std::string stream = "hiro hi's test outcomes" + std::string(drift ? ", then the tiny model degraded (40% of its right answers wrong)" : "") +
                                   "; fixed: least loss on validation";
        if (print) {
            std::cout << "\n";
            eval::print_online_table(std::cout, replay, summary, stream);
        }
        if (!plot.empty()) {
            const std::string file = fs::path(plot).replace_extension("").string() + (drift ? "-drift.svg" : "-stationary.svg");
            eval::online_plot(replay, summary, stream).write(file);
            spdlog::info("wrote {}", file);
        }
        out[drift ? "drift" : "stationary"] = eval::online_json(replay, summary, stream);
    }
    return out;
}

// Two charts side by side: accuracy against mean latency and against device energy.
void write_sweep_plot(const hi::HiReport& r, const std::string& path) {
    const std::string where = r.sweep_scenario.device + " over " + r.sweep_scenario.link;
    std::string halves;
    for (bool energy : {false, true}) {
        eval::SvgChart chart(fmt::format("Fashion-MNIST HI threshold sweep, {} (test split)", where), energy ? "device energy per sample (mJ)" : "mean latency (ms)",
                             "accuracy");
        auto line = [&](const std::vector<hi::SweepPoint>& pts) {
            std::vector<std::pair<double, double>> xy;
            for (const auto& p : pts) xy.emplace_back(energy ? p.energy_mj : p.mean_ms, p.accuracy);
            return xy;
        };
        chart.add_line(line(r.hi_sweep), "HI (max-softmax threshold)", "#1f77b4");
        chart.add_line(line(r.ee_hi_sweep), "EE-HI (exit tuned on validation)", "#d62728");
        for (const auto& s : r.scenarios) {
            if (s.scenario.device != r.sweep_scenario.device || s.scenario.link != r.sweep_scenario.link) continue;
            for (const auto& row : s.rows) {
                if (row.strategy == "on-device" || row.strategy == "full offload") {
                    chart.add_point(energy ? row.energy_mj : row.mean_ms, row.accuracy, row.strategy + ": " + row.setting, "#444444");
                }
            }
        }
        chart.add_note(fmt::format("accuracy target {:.3f}; thresholds at quantiles of the validation confidences", r.target));
        halves += fmt::format("<g transform=\"translate({},0)\">{}</g>", energy ? 960 : 0, chart.render(960, 640));
    }
    std::ofstream out(path);
    out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1920\" height=\"640\" viewBox=\"0 0 1920 640\">" << halves << "</svg>\n";
    if (!out) throw core::Error(core::ErrorCode::io, "cannot write " + path);
}

void run_hi(HiArgs& args) {
    if (args.target > 0) args.options.target = args.target;
    const hi::HiReport report = hi::run_hi(args.options);
    if (args.json != "-") hi::print_table(std::cout, report);
    nlohmann::json j = hi::to_json(report);
    if (args.online) j["online"] = run_online(report, args.json != "-", args.online_plot);
    if (!args.json.empty()) {
        write_json(args.json, j);
        if (args.json != "-") spdlog::info("wrote {}", args.json);
    }
    if (!args.plot.empty()) {
        write_sweep_plot(report, args.plot);
        spdlog::info("wrote {}", args.plot);
    }
    spdlog::info("hiro hi took {:.0f} s", report.seconds);
}

}  // namespace

void add_hi_command(CLI::App& app) {
    auto args = std::make_shared<HiArgs>();
    args->options.profiles = std::string(HIRO_CONFIG_DIR) + "/edge/profiles.yaml";
    CLI::App* cmd = app.add_subcommand("hi", "Fashion-MNIST hierarchical inference: train, measure and compare on-device, offload, HI and EE-HI");
    cmd->footer(
        "Trains (or loads from the cache) a microcontroller-sized CNN, a larger remote CNN and an early-exit variant of the tiny\n"
        "CNN on Fashion-MNIST with ggml-opt, saves them as GGUF, measures each model's single-image latency on this machine,\n"
        "fits the HI decision modules (max-softmax after temperature scaling; logistic regression on the top-2 softmax\n"
        "probabilities) on a validation split carved from the training file, and reports on the test split, per device +\n"
        "link of the profile file: accuracy, mean and p95 latency, device energy per sample and offloaded share for\n"
        "on-device inference, full offload, HI and EE-HI at an accuracy target.");
    cmd->add_option("--data", args->options.data_dir, "folder with the Fashion-MNIST IDX files (Debian: dataset-fashion-mnist)")->capture_default_str();
    cmd->add_option("--cache", args->options.cache_dir, "folder of the trained GGUF models (default $HIRO_CACHE/hi or ~/.cache/hiro/hi)");
    cmd->add_option("--profiles", args->options.profiles, "YAML device / link profiles and the scenarios to report")->capture_default_str();
    cmd->add_option("--target", args->target, "accuracy requirement (default: the remote model's validation accuracy - 0.01)");
    cmd->add_option("--validation", args->options.validation_size, "images of the training file held out for fitting decision modules")->capture_default_str();
    cmd->add_option("--train-limit", args->options.train_limit, "train on only the first N training images (0 = all)")->capture_default_str();
    cmd->add_option("--tiny-epochs", args->options.tiny_epochs, "epochs of the tiny CNN")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--remote-epochs", args->options.remote_epochs, "epochs of the remote CNN")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--exit-epochs", args->options.exit_epochs, "epochs of the early-exit head")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--batch", args->options.batch, "training batch size")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--learning-rate", args->options.learning_rate, "AdamW learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--threads", args->options.threads, "threads for training and batched prediction")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--seed", args->options.seed, "seed of the validation split and the weight initialisation")->capture_default_str();
    cmd->add_flag("--retrain", args->options.retrain, "train again even if the cache holds the models");
    cmd->add_option("--plot-scenario", args->options.plot_scenario, "DEVICE/LINK of the threshold sweep plot (default: the first scenario)");
    cmd->add_flag("--online", args->online, "also stream the test outcomes through a self-tuning cascade tiny -> remote (labels only for "
                                            "offloaded images, 10% verified), started cold, and again with the tiny model degraded "
                                            "half-way (drift); report regret and recovery against the validation-fitted threshold (docs/online.md)");
    cmd->add_option("--online-plot", args->online_plot, "with --online: write the regret curves to FILE-stationary.svg and FILE-drift.svg");
    cmd->add_option("--json", args->json, "write the report as JSON to this file ('-' = stdout, no table)");
    cmd->add_option("--plot", args->plot, "write the threshold sweep (accuracy vs latency and vs energy) as SVG to this file");
    cmd->callback([args] { run_hi(*args); });
}

}  // namespace hiro::cli
