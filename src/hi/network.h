#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hi/fashion_mnist.h"

struct ggml_context;
struct ggml_tensor;
struct ggml_backend_buffer;

namespace hiro::hi {

// A conv block: KxK valid convolution, bias, ReLU, then PxP max pooling.
struct ConvBlock {
    int channels = 0;
    int kernel = 3;
    int pool = 2;
};

// The architecture of a Fashion-MNIST classifier, stored in its GGUF file.
struct NetSpec {
    std::string name;
    std::vector<ConvBlock> convs;
    std::vector<int> hidden;    // ReLU dense layers between the convs and the classifier
    int exit_after_conv = -1;   // an early-exit head after this conv block; -1 = none
    int exit_pool = 3;          // the exit head average-pools its block's output by this much first
    bool int8 = false;          // store dense weights as q8_0 (8-bit) where ggml's 32-wide blocks fit

    bool has_exit() const { return exit_after_conv >= 0; }
};

// The three models of `hiro hi`: a microcontroller-sized CNN, a larger remote
// CNN, and the tiny CNN with an exit head after its first conv block.
NetSpec tiny_spec();
NetSpec remote_spec();
NetSpec early_exit_spec();

// Which classifier a forward pass ends in.
enum class Head { final, exit };

// A network's weights in a ggml CPU buffer, and how to build its forward graph.
class Network {
public:
    // One weight tensor as stored: name, shape, ggml type and raw bytes.
    struct TensorData {
        std::string name;
        std::vector<std::int64_t> shape;
        int type = 0;  // ggml_type
        std::vector<std::uint8_t> bytes;
    };

    Network(NetSpec spec, const std::vector<TensorData>& tensors);
    ~Network();
    Network(Network&&) noexcept;
    Network& operator=(Network&&) noexcept;

    static Network initialise(NetSpec spec, std::uint64_t seed);  // He-uniform weights, zero biases
    static Network load(const std::string& path);                  // a GGUF written by save()
    void save(const std::string& path) const;                      // throws an io Error on failure

    // This network's tensors plus a freshly initialised exit head: the early-exit
    // model shares the tiny model's trained backbone.
    Network with_exit_head(NetSpec spec, std::uint64_t seed) const;

    const NetSpec& spec() const { return spec_; }
    // Builds the graph from input [784, batch] to logits [10, batch].
    ggml_tensor* forward(ggml_context* ctx, ggml_tensor* input, Head head) const;
    // The weights a training stage updates: every tensor but the exit head's, or only the exit head's.
    std::vector<ggml_tensor*> parameters(Head head) const;

    std::int64_t parameter_count() const;
    std::size_t weight_bytes() const;          // as stored (q8_0 counts 34 bytes per 32 weights)
    double macs(Head head) const;              // multiply-accumulates per image up to that head
    double macs_with_exit() const;             // both heads, as an early-exit model that continues pays

private:
    ggml_tensor* tensor(const std::string& name) const;
    std::vector<TensorData> tensor_data() const;

    NetSpec spec_;
    ggml_context* ctx_ = nullptr;
    ggml_backend_buffer* buffer_ = nullptr;
    std::map<std::string, ggml_tensor*> tensors_;
};

}  // namespace hiro::hi
