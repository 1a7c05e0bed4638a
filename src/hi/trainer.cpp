#include "hi/trainer.h"

#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml-opt.h>
#include <ggml.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "core/error.h"

namespace hiro::hi {
namespace {

// Owns the ggml objects of one training run.
struct TrainingRun {
    ggml_backend_t backend = nullptr;
    ggml_backend_sched_t sched = nullptr;
    ggml_context* ctx_static = nullptr;
    ggml_context* ctx_compute = nullptr;
    ggml_backend_buffer_t static_buffer = nullptr;
    ggml_opt_dataset_t dataset = nullptr;
    ggml_opt_context_t opt = nullptr;
    ggml_opt_result_t result = nullptr;

    ~TrainingRun() {
        if (result) ggml_opt_result_free(result);
        if (opt) ggml_opt_free(opt);
        if (dataset) ggml_opt_dataset_free(dataset);
        if (static_buffer) ggml_backend_buffer_free(static_buffer);
        if (ctx_compute) ggml_free(ctx_compute);
        if (ctx_static) ggml_free(ctx_static);
        if (sched) ggml_backend_sched_free(sched);
        if (backend) ggml_backend_free(backend);
    }
};

ggml_opt_dataset_t make_dataset(const ImageSet& images, std::int64_t n) {
    ggml_opt_dataset_t d = ggml_opt_dataset_init(GGML_TYPE_F32, GGML_TYPE_F32, image_pixels, class_count, n, 1);
    auto* data = static_cast<float*>(ggml_opt_dataset_data(d)->data);
    auto* labels = static_cast<float*>(ggml_opt_dataset_labels(d)->data);
    std::memcpy(data, images.pixels.data(), static_cast<std::size_t>(n) * image_pixels * sizeof(float));
    std::fill(labels, labels + n * class_count, 0.0f);
    for (std::int64_t i = 0; i < n; ++i) labels[i * class_count + images.labels[static_cast<std::size_t>(i)]] = 1.0f;
    return d;
}

}  // namespace

TrainReport train(Network& network, const ImageSet& images, const TrainOptions& options) {
    const std::int64_t n = static_cast<std::int64_t>(images.size()) / options.batch * options.batch;
    if (n == 0) throw core::Error(core::ErrorCode::invalid_input, "training needs at least one batch of " + std::to_string(options.batch) + " images");

    TrainingRun run;
    run.backend = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(run.backend, options.threads);
    run.sched = ggml_backend_sched_new(&run.backend, nullptr, 1, GGML_DEFAULT_GRAPH_SIZE, false, false);

    run.ctx_static = ggml_init({2 * ggml_tensor_overhead(), nullptr, true});
    ggml_tensor* inputs = ggml_new_tensor_2d(run.ctx_static, GGML_TYPE_F32, image_pixels, options.batch);
    ggml_set_name(inputs, "images");
    ggml_set_input(inputs);
    run.static_buffer = ggml_backend_alloc_ctx_tensors(run.ctx_static, run.backend);

    run.ctx_compute = ggml_init({GGML_DEFAULT_GRAPH_SIZE * ggml_tensor_overhead() + 3 * ggml_graph_overhead(), nullptr, true});
    for (ggml_tensor* p : network.parameters(options.head)) ggml_set_param(p);
    ggml_tensor* logits = network.forward(run.ctx_compute, inputs, options.head);
    ggml_set_name(logits, "logits");
    ggml_set_output(logits);

    ggml_opt_optimizer_params optimizer = ggml_opt_get_default_optimizer_params(nullptr);
    optimizer.adamw.alpha = options.learning_rate;
    ggml_opt_params params = ggml_opt_default_params(run.sched, GGML_OPT_LOSS_TYPE_CROSS_ENTROPY);
    params.ctx_compute = run.ctx_compute;
    params.inputs = inputs;
    params.outputs = logits;
    params.get_opt_pars = ggml_opt_get_constant_optimizer_params;
    params.get_opt_pars_ud = &optimizer;
    params.optimizer = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
    run.opt = ggml_opt_init(params);
    run.dataset = make_dataset(images, n);
    run.result = ggml_opt_result_init();

    TrainReport report;
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        ggml_opt_dataset_shuffle(run.opt, run.dataset, -1);
        ggml_opt_result_reset(run.result);
        ggml_opt_epoch(run.opt, run.dataset, run.result, nullptr, n, nullptr, nullptr);
        double loss = 0, accuracy = 0;
        ggml_opt_result_loss(run.result, &loss, nullptr);
        ggml_opt_result_accuracy(run.result, &accuracy, nullptr);
        report.epoch_loss.push_back(loss);
        report.epoch_accuracy.push_back(accuracy);
        spdlog::info("  {} ({} head) epoch {}/{}: loss {:.4f}, train accuracy {:.4f}", network.spec().name,
                     options.head == Head::exit ? "exit" : "final", epoch, options.epochs, loss, accuracy);
    }
    return report;
}

}  // namespace hiro::hi
