#pragma once

#include <cstdint>
#include <vector>

#include "hi/fashion_mnist.h"
#include "hi/network.h"

namespace hiro::hi {

struct TrainOptions {
    int epochs = 3;
    int batch = 100;
    float learning_rate = 1e-3f;  // AdamW
    Head head = Head::final;      // final: train everything but the exit head; exit: only the exit head
    int threads = 2;
};

// Mean cross-entropy and accuracy over each epoch, on the training split.
struct TrainReport {
    std::vector<double> epoch_loss, epoch_accuracy;
};

// Trains a network in place with ggml-opt (AdamW, cross-entropy), logging each
// epoch to spdlog. Images beyond a whole number of batches are left out.
TrainReport train(Network& network, const ImageSet& images, const TrainOptions& options);

}  // namespace hiro::hi
