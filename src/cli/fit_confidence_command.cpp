// hiro fit-confidence: fit the logistic confidence model on one outcome file
// and judge it on another.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output_files.h"
#include "core/outcome_reader.h"
#include "policy/logistic_confidence.h"

namespace hiro::cli {
namespace {

struct FitArgs {
    std::string train, test, model, out, json;
    std::vector<std::string> signals{"answer_logprob"};
};

struct LogLoss {
    double fitted = 0.0;
    double raw = 0.0;  // the file's own confidence read as log P(correct)
};

// Mean negative log-likelihood of the correctness labels.
LogLoss log_loss(const core::OutcomeSet& set, std::size_t m, const policy::LogisticConfidenceModel& fit) {
    LogLoss l;
    auto nll = [](double log_p, bool correct) {
        return correct ? -log_p : -std::log1p(-std::min(std::exp(log_p), 1.0 - 1e-12));
    };
    for (const auto& r : set.records) {
        const auto& o = r.models[m];
        l.fitted += nll(fit.log_p_correct(policy::recorded_features(set, o, fit.features)), o.correct);
        l.raw += nll(std::max(o.confidence.value_or(policy::signal_floor), policy::signal_floor), o.correct);
    }
    l.fitted /= static_cast<double>(set.size());
    l.raw /= static_cast<double>(set.size());
    return l;
}

void run_fit(const FitArgs& a) {
    const core::OutcomeSet train = core::read_outcomes(a.train);
    const auto fit = policy::fit_logistic_confidence(train, a.model, a.signals);
    policy::save_logistic_confidence(fit, a.out);
    spdlog::info("wrote {} (use it as --confidence logistic:{})", a.out, a.out);
    const LogLoss in_sample = log_loss(train, train.model_index(a.model), fit);
    nlohmann::json j = {{"model", a.model}, {"signals", a.signals}, {"train", a.train}, {"train_queries", train.size()},
                        {"weights", fit.weights}, {"bias", fit.bias}, {"train_log_loss", in_sample.fitted}};
    std::string table = fmt::format("logistic confidence of {} over {}: fitted on {} ({} queries)\n", a.model,
                                    fmt::join(a.signals, ", "), a.train, train.size());
    table += fmt::format("  {:<40} {:>10} {:>14}\n", "split", "log-loss", "raw log-loss");
    table += fmt::format("  {:<40} {:>10.4f} {:>14.4f}\n", "train (in sample)", in_sample.fitted, in_sample.raw);
    if (!a.test.empty()) {
        const core::OutcomeSet test = core::read_outcomes(a.test);
        const LogLoss held_out = log_loss(test, test.model_index(a.model), fit);
        table += fmt::format("  {:<40} {:>10.4f} {:>14.4f}\n", "test (held out, " + std::to_string(test.size()) + " queries)",
                             held_out.fitted, held_out.raw);
        j["test"] = a.test;
        j["test_queries"] = test.size();
        j["test_log_loss"] = held_out.fitted;
        j["test_raw_log_loss"] = held_out.raw;
    }
    if (a.json != "-") std::cout << table << "  (raw: the file's confidence read as log P(correct))\n";
    if (!a.json.empty()) write_json(a.json, j);
}

}  // namespace

void add_fit_confidence_command(CLI::App& app) {
    auto args = std::make_shared<FitArgs>();
    CLI::App* cmd = app.add_subcommand("fit-confidence", "Fit a logistic confidence model on an outcome file");
    cmd->footer(
        "Fit a logistic model of P(correct) for one model over its recorded confidence signals (hiro record writes\n"
        "them under \"signals\"; a file's own confidence counts as the signal its confidence_signal names) and save\n"
        "it as JSON for --confidence logistic:FILE. Fit on a train split and pass --test to judge it held out.");
    cmd->add_option("train", args->train, "outcome file to fit on (the train split)")->required();
    cmd->add_option("--model", args->model, "the model whose answers to calibrate")->required();
    cmd->add_option("--signals", args->signals, "signals to combine")->delimiter(',')->capture_default_str();
    cmd->add_option("--test", args->test, "held-out outcome file to report log-loss on");
    cmd->add_option("--out", args->out, "where to write the fitted model (JSON)")->required();
    cmd->add_option("--json", args->json, "write the fit report as JSON to this file ('-' = stdout, no table)");
    cmd->callback([args] { run_fit(*args); });
}

}  // namespace hiro::cli
