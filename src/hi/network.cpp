#include "hi/network.h"

#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>
#include <gguf.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"

namespace hiro::hi {
namespace {

using core::Error;
using core::ErrorCode;

constexpr const char* spec_key = "hiro.hi.spec";

// One weight tensor the architecture needs: its name, shape and fan-in.
struct WeightShape {
    std::string name;
    std::vector<std::int64_t> shape;
    int fan_in = 0;
};

struct Layout {
    std::vector<WeightShape> weights;
    double backbone_macs_to_exit = 0, final_macs = 0, exit_head_macs = 0;
};

void add_dense(Layout& l, const std::string& name, int in, int out) {
    l.weights.push_back({name + ".w", {in, out}, in});
    l.weights.push_back({name + ".b", {out}, 0});
}

Layout layout(const NetSpec& s) {
    Layout l;
    int side = image_side, channels = 1;
    for (std::size_t i = 0; i < s.convs.size(); ++i) {
        const ConvBlock& c = s.convs[i];
        const std::string name = "conv" + std::to_string(i);
        l.weights.push_back({name + ".w", {c.kernel, c.kernel, channels, c.channels}, c.kernel * c.kernel * channels});
        l.weights.push_back({name + ".b", {c.channels}, 0});
        const int out_side = side - c.kernel + 1;
        l.final_macs += double(out_side) * out_side * c.kernel * c.kernel * channels * c.channels;
        side = out_side / c.pool;
        channels = c.channels;
        if (static_cast<int>(i) == s.exit_after_conv) {
            const int exit_in = (side / s.exit_pool) * (side / s.exit_pool) * channels;
            add_dense(l, "exit", exit_in, class_count);
            l.backbone_macs_to_exit = l.final_macs;
            l.exit_head_macs = double(exit_in) * class_count;
        }
    }
    int flat = side * side * channels;
    for (std::size_t j = 0; j < s.hidden.size(); ++j) {
        add_dense(l, "fc" + std::to_string(j), flat, s.hidden[j]);
        l.final_macs += double(flat) * s.hidden[j];
        flat = s.hidden[j];
    }
    add_dense(l, "out", flat, class_count);
    l.final_macs += double(flat) * class_count;
    return l;
}

nlohmann::json spec_json(const NetSpec& s) {
    nlohmann::json convs = nlohmann::json::array();
    for (const auto& c : s.convs) convs.push_back({c.channels, c.kernel, c.pool});
    return {{"name", s.name}, {"convs", convs}, {"hidden", s.hidden}, {"exit_after_conv", s.exit_after_conv},
            {"exit_pool", s.exit_pool}, {"int8", s.int8}};
}

NetSpec spec_from_json(const nlohmann::json& j) {
    NetSpec s;
    s.name = j.at("name").get<std::string>();
    for (const auto& c : j.at("convs")) s.convs.push_back({c.at(0).get<int>(), c.at(1).get<int>(), c.at(2).get<int>()});
    s.hidden = j.at("hidden").get<std::vector<int>>();
    s.exit_after_conv = j.at("exit_after_conv").get<int>();
    s.exit_pool = j.at("exit_pool").get<int>();
    s.int8 = j.at("int8").get<bool>();
    return s;
}

ggml_tensor* dense(ggml_context* ctx, ggml_tensor* x, ggml_tensor* w, ggml_tensor* b) { return ggml_add(ctx, ggml_mul_mat(ctx, w, x), b); }

ggml_tensor* flatten(ggml_context* ctx, ggml_tensor* x) { return ggml_reshape_2d(ctx, x, x->ne[0] * x->ne[1] * x->ne[2], x->ne[3]); }

// Dense weights whose rows fill whole q8_0 blocks are stored in 8 bits.
bool stored_as_int8(const NetSpec& spec, const Network::TensorData& t) {
    return spec.int8 && t.type == GGML_TYPE_F32 && t.shape.size() == 2 && t.shape[0] % ggml_blck_size(GGML_TYPE_Q8_0) == 0;
}

}  // namespace

NetSpec tiny_spec() { return {"tiny", {{4, 5, 2}, {8, 5, 2}}, {}, -1, 3, true}; }
NetSpec remote_spec() { return {"remote", {{16, 3, 2}, {32, 3, 2}}, {128}, -1, 4, false}; }
NetSpec early_exit_spec() {
    NetSpec s = tiny_spec();
    s.name = "early_exit";
    s.exit_after_conv = 0;
    return s;
}

Network::Network(NetSpec spec, const std::vector<TensorData>& tensors) : spec_(std::move(spec)) {
    ctx_ = ggml_init({(tensors.size() + 1) * ggml_tensor_overhead(), nullptr, true});
    for (const auto& t : tensors) {
        ggml_tensor* g = ggml_new_tensor(ctx_, static_cast<ggml_type>(t.type), static_cast<int>(t.shape.size()), t.shape.data());
        ggml_set_name(g, t.name.c_str());
        tensors_[t.name] = g;
    }
    for (const auto& w : layout(spec_).weights) {
        const ggml_tensor* t = tensor(w.name);
        for (std::size_t d = 0; d < w.shape.size(); ++d) {
            if (t->ne[d] != w.shape[d]) throw Error(ErrorCode::invalid_input, "model " + spec_.name + ": tensor " + w.name + " has the wrong shape");
        }
    }
    buffer_ = ggml_backend_alloc_ctx_tensors_from_buft(ctx_, ggml_backend_cpu_buffer_type());
    for (const auto& t : tensors) ggml_backend_tensor_set(tensors_.at(t.name), t.bytes.data(), 0, t.bytes.size());
}

Network::~Network() {
    if (buffer_ != nullptr) ggml_backend_buffer_free(buffer_);
    if (ctx_ != nullptr) ggml_free(ctx_);
}

Network::Network(Network&& o) noexcept
    : spec_(std::move(o.spec_)), ctx_(std::exchange(o.ctx_, nullptr)), buffer_(std::exchange(o.buffer_, nullptr)), tensors_(std::move(o.tensors_)) {}

Network& Network::operator=(Network&& o) noexcept {
    std::swap(spec_, o.spec_);
    std::swap(ctx_, o.ctx_);
    std::swap(buffer_, o.buffer_);
    std::swap(tensors_, o.tensors_);
    return *this;
}

Network Network::initialise(NetSpec spec, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<TensorData> tensors;
    for (const auto& w : layout(spec).weights) {
        std::int64_t n = 1;
        for (auto d : w.shape) n *= d;
        std::vector<float> values(static_cast<std::size_t>(n), 0.0f);
        if (w.fan_in > 0) {
            // He-uniform: keeps the variance of ReLU activations constant across layers.
            std::uniform_real_distribution<float> u(-1.0f, 1.0f);
            const float limit = std::sqrt(6.0f / static_cast<float>(w.fan_in));
            for (auto& v : values) v = u(rng) * limit;
        }
        TensorData t{w.name, w.shape, GGML_TYPE_F32, std::vector<std::uint8_t>(values.size() * sizeof(float))};
        std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
        tensors.push_back(std::move(t));
    }
    return Network(std::move(spec), tensors);
}

Network Network::with_exit_head(NetSpec spec, std::uint64_t seed) const {
    std::vector<TensorData> tensors = tensor_data();
    for (auto& t : Network::initialise(spec, seed).tensor_data()) {
        if (t.name.starts_with("exit.")) tensors.push_back(std::move(t));
    }
    return Network(std::move(spec), tensors);
}

std::vector<Network::TensorData> Network::tensor_data() const {
    std::vector<TensorData> out;
    for (const auto& [name, t] : tensors_) {
        TensorData d{name, {}, t->type, std::vector<std::uint8_t>(ggml_nbytes(t))};
        for (int i = 0; i < ggml_n_dims(t); ++i) d.shape.push_back(t->ne[i]);
        ggml_backend_tensor_get(t, d.bytes.data(), 0, d.bytes.size());
        out.push_back(std::move(d));
    }
    return out;
}

void Network::save(const std::string& path) const {
    const auto tensors = tensor_data();
    std::size_t bytes = 0;
    for (const auto& t : tensors) bytes += t.bytes.size() + ggml_tensor_overhead();
    ggml_context* data = ggml_init({bytes + ggml_tensor_overhead(), nullptr, false});
    gguf_context* gguf = gguf_init_empty();
    gguf_set_val_str(gguf, "general.architecture", "hiro-fashion-mnist-cnn");
    gguf_set_val_str(gguf, spec_key, spec_json(spec_).dump().c_str());
    for (const auto& t : tensors) {
        const bool int8 = stored_as_int8(spec_, t);
        ggml_tensor* g = ggml_new_tensor(data, int8 ? GGML_TYPE_Q8_0 : static_cast<ggml_type>(t.type), static_cast<int>(t.shape.size()), t.shape.data());
        ggml_set_name(g, t.name.c_str());
        if (int8) {
            ggml_quantize_chunk(GGML_TYPE_Q8_0, reinterpret_cast<const float*>(t.bytes.data()), g->data, 0, t.shape[1], t.shape[0], nullptr);
        } else {
            std::memcpy(g->data, t.bytes.data(), t.bytes.size());
        }
        gguf_add_tensor(gguf, g);
    }
    // Written aside and renamed, so an interrupted run never leaves a half file in the cache.
    const std::string partial = path + ".partial";
    const bool ok = gguf_write_to_file(gguf, partial.c_str(), false);
    gguf_free(gguf);
    ggml_free(data);
    std::error_code ec;
    if (ok) std::filesystem::rename(partial, path, ec);
    if (!ok || ec) throw Error(ErrorCode::io, "cannot write model " + path);
}

Network Network::load(const std::string& path) {
    ggml_context* data = nullptr;
    gguf_context* gguf = gguf_init_from_file(path.c_str(), {false, &data});
    if (gguf == nullptr) throw Error(ErrorCode::invalid_input, path + " is not a readable GGUF model (delete it and hiro trains it again)");
    const std::int64_t key = gguf_find_key(gguf, spec_key);
    std::vector<TensorData> tensors;
    // By name: the context also holds the file's whole data blob as one more tensor.
    for (std::int64_t i = 0; i < gguf_get_n_tensors(gguf); ++i) {
        const ggml_tensor* t = ggml_get_tensor(data, gguf_get_tensor_name(gguf, i));
        TensorData d{ggml_get_name(t), {}, t->type, std::vector<std::uint8_t>(ggml_nbytes(t))};
        for (int i = 0; i < ggml_n_dims(t); ++i) d.shape.push_back(t->ne[i]);
        std::memcpy(d.bytes.data(), t->data, d.bytes.size());
        tensors.push_back(std::move(d));
    }
    const std::string spec = key >= 0 ? gguf_get_val_str(gguf, key) : "";
    gguf_free(gguf);
    ggml_free(data);
    if (spec.empty()) throw Error(ErrorCode::invalid_input, path + " has no " + spec_key + ": not a hiro hi model");
    return Network(spec_from_json(nlohmann::json::parse(spec)), tensors);
}

ggml_tensor* Network::tensor(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw Error(ErrorCode::invalid_input, "model " + spec_.name + " lacks tensor " + name);
    return it->second;
}

ggml_tensor* Network::forward(ggml_context* ctx, ggml_tensor* input, Head head) const {
    const std::int64_t batch = input->ne[1];
    ggml_tensor* x = ggml_reshape_4d(ctx, input, image_side, image_side, 1, batch);
    for (std::size_t i = 0; i < spec_.convs.size(); ++i) {
        const ConvBlock& c = spec_.convs[i];
        const std::string name = "conv" + std::to_string(i);
        ggml_tensor* w = tensor(name + ".w");
        // im2col + one matrix product; the columns stay f32 so gradients flow through them.
        ggml_tensor* cols = ggml_im2col(ctx, w, x, 1, 1, 0, 0, 1, 1, true, GGML_TYPE_F32);  // [k*k*in, ow, oh, batch]
        const std::int64_t k = cols->ne[0], ow = cols->ne[1], oh = cols->ne[2];
        // The columns come first so that the backward pass reaches the kernel's
        // reshape before im2col, which holds the kernel only for its shape.
        ggml_tensor* y = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, cols, k, ow * oh * batch), ggml_reshape_2d(ctx, w, k, c.channels));
        y = ggml_relu(ctx, ggml_add(ctx, y, ggml_reshape_2d(ctx, tensor(name + ".b"), 1, c.channels)));  // [ow*oh*batch, channels]
        y = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, y, ow, oh, batch, c.channels), 0, 1, 3, 2));  // [ow, oh, channels, batch]
        x = ggml_pool_2d(ctx, y, GGML_OP_POOL_MAX, c.pool, c.pool, c.pool, c.pool, 0, 0);
        if (head == Head::exit && static_cast<int>(i) == spec_.exit_after_conv) {
            ggml_tensor* e = ggml_pool_2d(ctx, x, GGML_OP_POOL_AVG, spec_.exit_pool, spec_.exit_pool, spec_.exit_pool, spec_.exit_pool, 0, 0);
            return dense(ctx, flatten(ctx, e), tensor("exit.w"), tensor("exit.b"));
        }
    }
    if (head == Head::exit) throw Error(ErrorCode::invalid_input, "model " + spec_.name + " has no early-exit head");
    x = flatten(ctx, x);
    for (std::size_t j = 0; j < spec_.hidden.size(); ++j) {
        const std::string name = "fc" + std::to_string(j);
        x = ggml_relu(ctx, dense(ctx, x, tensor(name + ".w"), tensor(name + ".b")));
    }
    return dense(ctx, x, tensor("out.w"), tensor("out.b"));
}

std::vector<ggml_tensor*> Network::parameters(Head head) const {
    std::vector<ggml_tensor*> out;
    for (const auto& [name, t] : tensors_) {
        if (name.starts_with("exit.") == (head == Head::exit)) out.push_back(t);
    }
    return out;
}

std::int64_t Network::parameter_count() const {
    std::int64_t n = 0;
    for (const auto& [_, t] : tensors_) n += ggml_nelements(t);
    return n;
}

std::size_t Network::weight_bytes() const {
    std::size_t n = 0;
    for (const auto& t : tensor_data()) n += stored_as_int8(spec_, t) ? ggml_row_size(GGML_TYPE_Q8_0, t.shape[0]) * t.shape[1] : t.bytes.size();
    return n;
}

double Network::macs(Head head) const {
    const Layout l = layout(spec_);
    return head == Head::exit ? l.backbone_macs_to_exit + l.exit_head_macs : l.final_macs;
}

double Network::macs_with_exit() const {
    const Layout l = layout(spec_);
    return l.final_macs + l.exit_head_macs;
}

}  // namespace hiro::hi
