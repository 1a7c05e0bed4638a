#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/edge_profiles.h"
#include "hi/fashion_mnist.h"
#include "hi/decision_modules.h"
#include "hi/strategies.h"

namespace hiro::hi {

struct HiOptions {
    std::string data_dir = default_fashion_mnist_dir;
    std::string cache_dir;        // where the GGUF models live; empty = $HIRO_CACHE/hi or ~/.cache/hiro/hi
    std::string profiles;         // config/edge/profiles.yaml
    std::size_t validation_size = 6000;
    std::size_t train_limit = 0;  // use only the first N training images (0 = all)
    std::uint64_t seed = 7;
    int tiny_epochs = 4, remote_epochs = 3, exit_epochs = 4;
    int threads = 1;  // one thread trained fastest on 2 shared cores
    int batch = 100;              // training batch
    float learning_rate = 2e-3f;  // AdamW
    std::optional<double> target;  // accuracy requirement; default: the remote model's validation accuracy - 0.01
    bool retrain = false;
    std::string plot_scenario;     // device/link of the sweep; default: the first scenario
};

std::string default_hi_cache_dir();

struct ModelReport {
    std::string name, file;
    std::int64_t parameters = 0;
    std::size_t bytes = 0;                 // as stored in the GGUF
    double macs = 0;
    bool trained = false;                  // false: loaded from the cache
    double train_seconds = 0;
    std::vector<double> epoch_loss;
    double validation_accuracy = 0, test_accuracy = 0;
    double latency_mean_ms = 0, latency_p95_ms = 0;  // single image, one thread, this machine, test split
};

struct ScenarioReport {
    core::Scenario scenario;
    Thresholds thresholds;           // tuned on validation
    std::vector<StrategyRow> rows;   // on test
};

// The threshold sweep of one scenario on the test split.
struct SweepPoint {
    double threshold, accuracy, mean_ms, energy_mj;
};

struct HiReport {
    std::vector<ModelReport> models;  // tiny, remote, early-exit's exit head
    MaxSoftmaxModule max_softmax, exit_max_softmax;
    Top2LogisticModule logistic;
    double target = 0;
    std::size_t train_size = 0, validation_size = 0, test_size = 0;
    std::vector<ScenarioReport> scenarios;
    core::Scenario sweep_scenario;
    std::vector<SweepPoint> hi_sweep, ee_hi_sweep;
    std::string outcome_file;  // per-sample test outcomes for `hiro simulate`
    std::string validation_outcome_file;  // the same on the validation split (what thresholds may be fitted on)
    double seconds = 0;
};

// Loads Fashion-MNIST, trains the three models (or loads them from the cache),
// measures their latency, fits the decision modules on validation and reports
// every strategy for every scenario of the profile file on test.
HiReport run_hi(const HiOptions& options);

}  // namespace hiro::hi
