#include "hi/hi_experiment.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/error.h"
#include "hi/inference.h"
#include "hi/trainer.h"

namespace hiro::hi {
namespace {

namespace fs = std::filesystem;

struct TrainedModel {
    Network network;
    ModelReport report;
};

// Loads `file` from the cache, or builds and trains the model and saves it there.
template <class Build>
TrainedModel cached(const std::string& name, const fs::path& file, bool retrain, Build build) {
    ModelReport report;
    report.name = name;
    report.file = file.string();
    if (!retrain && fs::exists(file)) {
        spdlog::info("loading {} from {}", name, file.string());
        return {Network::load(file.string()), report};
    }
    spdlog::info("training {} (cached afterwards in {})", name, file.string());
    const auto start = std::chrono::steady_clock::now();
    Network trained = build(report);
    report.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.trained = true;
    trained.save(file.string());
    // Reported figures come from the stored (int8 where allowed) weights, as deployed.
    return {Network::load(file.string()), report};
}

LocalPredictions local_predictions(const Network& n, const ImageSet& images, Head head, int threads) {
    return {predict(n, images, head, threads), images.labels};
}

double accuracy(const LocalPredictions& p) {
    double c = 0;
    for (std::size_t i = 0; i < p.size(); ++i) c += p.correct(i);
    return c / static_cast<double>(p.size());
}

void describe(ModelReport& r, const Network& n, Head head) {
    r.parameters = n.parameter_count();
    r.bytes = n.weight_bytes();
    r.macs = n.macs(head);
}

void latency_stats(ModelReport& r, std::vector<double> ms) {
    r.latency_mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
    const auto k = static_cast<std::size_t>(0.95 * static_cast<double>(ms.size() - 1));
    std::nth_element(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(k), ms.end());
    r.latency_p95_ms = ms[k];
}

// Everything the strategies need of one split.
struct SplitRun {
    LocalPredictions tiny, remote, exit;
    std::vector<double> tiny_ms, remote_ms, exit_ms;
};

SplitRun run_split(const Network& tiny, const Network& remote, const Network& early_exit, const ImageSet& images, int threads) {
    SplitRun s;
    s.tiny = local_predictions(tiny, images, Head::final, threads);
    s.remote = local_predictions(remote, images, Head::final, threads);
    s.exit = local_predictions(early_exit, images, Head::exit, threads);
    s.tiny_ms = measure_latency_ms(tiny, images, Head::final);
    s.remote_ms = measure_latency_ms(remote, images, Head::final);
    s.exit_ms = measure_latency_ms(early_exit, images, Head::exit);
    return s;
}

SplitSignals signals(const SplitRun& r, const MaxSoftmaxModule& ms, const Top2LogisticModule& lr, const MaxSoftmaxModule& exit_ms) {
    SplitSignals s;
    for (std::size_t i = 0; i < r.tiny.size(); ++i) {
        const float* tl = &r.tiny.logits[i * class_count];
        s.tiny_correct.push_back(r.tiny.correct(i));
        s.remote_correct.push_back(r.remote.correct(i));
        s.exit_correct.push_back(r.exit.correct(i));
        s.tiny_confidence.push_back(ms.confidence(tl));
        s.tiny_keep.push_back(1.0 - lr.p_wrong(tl));
        s.exit_confidence.push_back(exit_ms.confidence(&r.exit.logits[i * class_count]));
        s.remote_ms.push_back(r.remote_ms[i]);
    }
    return s;
}

// A split's outcomes as a hiro outcome file (confidence = log calibrated
// max-softmax), so that `hiro simulate` and `hiro eval` replay the real
// per-sample results.
void write_outcomes(const fs::path& file, const std::string& split, const SplitRun& r, const SplitSignals& s) {
    std::ofstream out(file);
    for (std::size_t i = 0; i < s.size(); ++i) {
        nlohmann::json line{{"id", fmt::format("fashion-mnist-{}-{}", split, i)},
                            {"task", "fashion-mnist"},
                            {"split", split},
                            {"prompt", ""},
                            {"gold", std::to_string(r.tiny.labels[i])}};
        line["models"]["tiny"] = {{"correct", bool(s.tiny_correct[i])}, {"confidence", std::log(s.tiny_confidence[i])}, {"latency_ms", r.tiny_ms[i]}};
        line["models"]["remote"] = {{"correct", bool(s.remote_correct[i])}, {"latency_ms", r.remote_ms[i]}};
        line["models"]["tiny-exit"] = {{"correct", bool(s.exit_correct[i])}, {"confidence", std::log(s.exit_confidence[i])}, {"latency_ms", r.exit_ms[i]}};
        out << line.dump() << '\n';
    }
    if (!out) throw core::Error(core::ErrorCode::io, "cannot write " + file.string());
}

// The models' compute per image, next to the test outcomes, with the thresholds tuned on validation.
void write_models_yaml(const fs::path& file, const std::vector<ModelReport>& models, const ModelCosts& costs, const ScenarioReport& tuned) {
    // Thresholds as log-probabilities, like the file's confidences; "never" stays finite for YAML.
    auto log_threshold = [](double p) { return std::min(std::log(p), 10.0); };
    std::ofstream yaml(fs::path(file).replace_extension(".models.yaml"));
    yaml << "# Compute per image of the models behind " << file.filename().string() << " (written by hiro hi).\n"
         << "models:\n"
         << "  tiny: {macs: " << costs.tiny_macs << ", bytes: " << models[0].bytes << "}\n"
         << "  remote: {macs: " << costs.remote_macs << ", bytes: " << models[1].bytes << "}\n"
         << "  tiny-exit: {macs: " << costs.exit_macs << ", continue_macs: " << costs.early_exit_full_macs << ", bytes: " << models[2].bytes << "}\n"
         << "image_bytes: " << costs.image_bytes << "\n"
         << "# tuned on the validation split for " << tuned.scenario.device << " over " << tuned.scenario.link << "\n"
         << "thresholds: {hi: " << log_threshold(tuned.thresholds.hi) << ", exit: " << log_threshold(tuned.thresholds.ee_exit)
         << ", ee_hi: " << log_threshold(tuned.thresholds.ee_hi) << "}\n";
    if (!yaml) throw core::Error(core::ErrorCode::io, "cannot write the models file next to " + file.string());
}

// HI and EE-HI on test over thresholds at 41 quantiles of the validation
// confidences, so that the sweep spans every offloaded share.
void sweep(const StrategyEvaluator& evaluator, const SplitSignals& validation, const SplitSignals& test, double exit_threshold, HiReport& report) {
    std::vector<double> c = validation.tiny_confidence;
    std::sort(c.begin(), c.end());
    constexpr int steps = 40;
    for (int q = 0; q <= steps; ++q) {
        const double th = q == steps ? 2.0 : c[static_cast<std::size_t>(q * static_cast<double>(c.size() - 1) / steps)];
        const StrategyRow h = evaluator.hi(test, th);
        report.hi_sweep.push_back({th, h.accuracy, h.mean_ms, h.energy_mj});
        const StrategyRow e = evaluator.ee_hi(test, exit_threshold, th);
        report.ee_hi_sweep.push_back({th, e.accuracy, e.mean_ms, e.energy_mj});
    }
}

}  // namespace

std::string default_hi_cache_dir() {
    if (const char* c = std::getenv("HIRO_CACHE"); c != nullptr && *c != '\0') return std::string(c) + "/hi";
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : ".") + "/.cache/hiro/hi";
}

HiReport run_hi(const HiOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    const core::EdgeProfiles profiles = core::load_edge_profiles(o.profiles);
    if (profiles.scenarios.empty()) throw core::Error(core::ErrorCode::invalid_input, o.profiles + ": no scenarios (list device + link pairs under 'scenarios:')");
    FashionMnist data = load_fashion_mnist(o.data_dir, o.validation_size, o.seed);
    if (o.train_limit > 0) data.train = data.train.head(o.train_limit);
    spdlog::info("Fashion-MNIST: {} train, {} validation (carved from the training file), {} test images", data.train.size(),
                 data.validation.size(), data.test.size());

    const fs::path cache = o.cache_dir.empty() ? default_hi_cache_dir() : o.cache_dir;
    fs::create_directories(cache);
    // The file name carries everything that changes the weights, so other settings never reuse them.
    const std::string key = fmt::format("n{}-v{}-s{}-b{}-lr{}", data.train.size(), o.validation_size, o.seed, o.batch, o.learning_rate);
    auto trainer = [&](int epochs, Head head) { return TrainOptions{epochs, o.batch, o.learning_rate, head, o.threads}; };

    TrainedModel tiny = cached("tiny", cache / fmt::format("tiny-{}-e{}.gguf", key, o.tiny_epochs), o.retrain, [&](ModelReport& r) {
        Network n = Network::initialise(tiny_spec(), o.seed);
        r.epoch_loss = train(n, data.train, trainer(o.tiny_epochs, Head::final)).epoch_loss;
        return n;
    });
    TrainedModel remote = cached("remote", cache / fmt::format("remote-{}-e{}.gguf", key, o.remote_epochs), o.retrain, [&](ModelReport& r) {
        Network n = Network::initialise(remote_spec(), o.seed + 1);
        r.epoch_loss = train(n, data.train, trainer(o.remote_epochs, Head::final)).epoch_loss;
        return n;
    });
    TrainedModel early_exit = cached("early-exit", cache / fmt::format("early_exit-{}-e{}-x{}.gguf", key, o.tiny_epochs, o.exit_epochs),
                                     o.retrain, [&](ModelReport& r) {
                                         // The exit head learns on the tiny model's frozen, trained backbone.
                                         Network n = tiny.network.with_exit_head(early_exit_spec(), o.seed + 2);
                                         r.epoch_loss = train(n, data.train, trainer(o.exit_epochs, Head::exit)).epoch_loss;
                                         return n;
                                     });
    describe(tiny.report, tiny.network, Head::final);
    describe(remote.report, remote.network, Head::final);
    describe(early_exit.report, early_exit.network, Head::exit);

    spdlog::info("predicting and timing every validation and test image (single image, one thread)");
    const SplitRun val = run_split(tiny.network, remote.network, early_exit.network, data.validation, o.threads);
    const SplitRun test = run_split(tiny.network, remote.network, early_exit.network, data.test, o.threads);

    HiReport report;
    report.train_size = data.train.size();
    report.validation_size = data.validation.size();
    report.test_size = data.test.size();
    // Decision modules see the validation split only.
    report.max_softmax = fit_max_softmax(val.tiny);
    report.logistic = fit_top2_logistic(val.tiny);
    report.exit_max_softmax = fit_max_softmax(val.exit);
    report.target = o.target.value_or(accuracy(val.remote) - 0.01);

    tiny.report.validation_accuracy = accuracy(val.tiny);
    tiny.report.test_accuracy = accuracy(test.tiny);
    remote.report.validation_accuracy = accuracy(val.remote);
    remote.report.test_accuracy = accuracy(test.remote);
    early_exit.report.validation_accuracy = accuracy(val.exit);
    early_exit.report.test_accuracy = accuracy(test.exit);
    latency_stats(tiny.report, test.tiny_ms);
    latency_stats(remote.report, test.remote_ms);
    latency_stats(early_exit.report, test.exit_ms);
    report.models = {tiny.report, remote.report, early_exit.report};

    const ModelCosts costs{tiny.network.macs(Head::final), remote.network.macs(Head::final), early_exit.network.macs(Head::exit),
                           early_exit.network.macs_with_exit(), static_cast<double>(remote.network.parameter_count()), image_pixels};
    const SplitSignals val_signals = signals(val, report.max_softmax, report.logistic, report.exit_max_softmax);
    const SplitSignals test_signals = signals(test, report.max_softmax, report.logistic, report.exit_max_softmax);

    Thresholds t;
    t.hi = tune_threshold(val_signals.tiny_confidence, val_signals.tiny_correct, val_signals.remote_correct, report.target);
    t.logistic_cut = 1.0 - tune_threshold(val_signals.tiny_keep, val_signals.tiny_correct, val_signals.remote_correct, report.target);
    report.max_softmax.threshold = t.hi;
    report.logistic.cut = t.logistic_cut;
    report.sweep_scenario = profiles.scenarios.front();
    for (const auto& sc : profiles.scenarios) {
        if (!o.plot_scenario.empty() && o.plot_scenario == sc.device + "/" + sc.link) report.sweep_scenario = sc;
    }
    for (const auto& sc : profiles.scenarios) {
        const StrategyEvaluator evaluator(profiles.device(sc.device), profiles.link(sc.link), costs, report.target);
        ScenarioReport s{sc, t, {}};
        std::tie(s.thresholds.ee_exit, s.thresholds.ee_hi) = evaluator.tune_ee_hi(val_signals);
        s.rows = evaluator.evaluate(test_signals, s.thresholds);
        if (sc.device == report.sweep_scenario.device && sc.link == report.sweep_scenario.link) {
            sweep(evaluator, val_signals, test_signals, s.thresholds.ee_exit, report);
        }
        report.scenarios.push_back(std::move(s));
    }
    const std::string models_key = fmt::format("{}-e{}-{}-{}", key, o.tiny_epochs, o.remote_epochs, o.exit_epochs);
    report.outcome_file = (cache / ("fashion_mnist_test-" + models_key + ".jsonl")).string();
    report.validation_outcome_file = (cache / ("fashion_mnist_validation-" + models_key + ".jsonl")).string();
    write_outcomes(report.outcome_file, "test", test, test_signals);
    write_models_yaml(report.outcome_file, report.models, costs, report.scenarios.front());
    write_outcomes(report.validation_outcome_file, "validation", val, val_signals);
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

}  // namespace hiro::hi
