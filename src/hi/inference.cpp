#include "hi/inference.h"

#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>

#include <algorithm>
#include <chrono>

namespace hiro::hi {

struct Runner::State {
    ggml_backend_t backend = nullptr;
    ggml_context* ctx = nullptr;
    ggml_gallocr_t allocator = nullptr;
    ggml_cgraph* graph = nullptr;
    ggml_tensor* input = nullptr;
    ggml_tensor* logits = nullptr;
    int batch = 0;

    ~State() {
        if (allocator) ggml_gallocr_free(allocator);
        if (ctx) ggml_free(ctx);
        if (backend) ggml_backend_free(backend);
    }
};

Runner::Runner(const Network& network, int batch, Head head, int threads) : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.batch = batch;
    s.backend = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(s.backend, threads);
    s.ctx = ggml_init({GGML_DEFAULT_GRAPH_SIZE * ggml_tensor_overhead() + ggml_graph_overhead(), nullptr, true});
    s.input = ggml_new_tensor_2d(s.ctx, GGML_TYPE_F32, image_pixels, batch);
    ggml_set_input(s.input);
    s.logits = network.forward(s.ctx, s.input, head);
    ggml_set_output(s.logits);
    s.graph = ggml_new_graph(s.ctx);
    ggml_build_forward_expand(s.graph, s.logits);
    s.allocator = ggml_gallocr_new(ggml_backend_cpu_buffer_type());
    ggml_gallocr_alloc_graph(s.allocator, s.graph);
}

Runner::~Runner() = default;

std::vector<float> Runner::run(const float* images, int count) {
    State& s = *state_;
    ggml_backend_tensor_set(s.input, images, 0, static_cast<std::size_t>(count) * image_pixels * sizeof(float));
    ggml_backend_graph_compute(s.backend, s.graph);
    std::vector<float> out(static_cast<std::size_t>(count) * class_count);
    ggml_backend_tensor_get(s.logits, out.data(), 0, out.size() * sizeof(float));
    return out;
}

std::vector<float> predict(const Network& network, const ImageSet& images, Head head, int threads) {
    constexpr int batch = 250;
    Runner runner(network, batch, head, threads);
    std::vector<float> logits;
    logits.reserve(images.size() * class_count);
    for (std::size_t i = 0; i < images.size(); i += batch) {
        const int count = static_cast<int>(std::min<std::size_t>(batch, images.size() - i));
        const auto part = runner.run(images.image(i), count);
        logits.insert(logits.end(), part.begin(), part.end());
    }
    return logits;
}

std::vector<double> measure_latency_ms(const Network& network, const ImageSet& images, Head head) {
    Runner runner(network, 1, head, 1);
    runner.run(images.image(0), 1);  // warm-up: first-touch page faults and caches
    std::vector<double> ms(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        runner.run(images.image(i), 1);
        ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    return ms;
}

}  // namespace hiro::hi
