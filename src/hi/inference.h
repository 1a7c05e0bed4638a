#pragma once

#include <memory>
#include <vector>

#include "hi/fashion_mnist.h"
#include "hi/network.h"

namespace hiro::hi {

// A network's forward graph for a fixed batch size, allocated once and run
// many times on the ggml CPU backend.
class Runner {
public:
    Runner(const Network& network, int batch, Head head, int threads);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    // Logits of `count` (<= batch) images, count x 10 floats.
    std::vector<float> run(const float* images, int count);

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Logits of every image, class_count floats per image.
std::vector<float> predict(const Network& network, const ImageSet& images, Head head, int threads);

// Wall-clock milliseconds of one single-image forward pass per image, one
// thread (as a device answers one sample at a time).
std::vector<double> measure_latency_ms(const Network& network, const ImageSet& images, Head head);

}  // namespace hiro::hi
