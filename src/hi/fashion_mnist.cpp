#include "hi/fashion_mnist.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"
#include "hi/idx_reader.h"

namespace hiro::hi {
namespace {

using core::Error;
using core::ErrorCode;

struct RawSplit {
    IdxArray images, labels;
};

RawSplit read_split(const std::string& dir, const std::string& prefix) {
    RawSplit s{read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz"), read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz")};
    if (s.images.dims.size() != 3 || s.images.dims[1] != image_side || s.images.dims[2] != image_side) {
        throw Error(ErrorCode::invalid_input, dir + "/" + prefix + "-images: expected N x 28 x 28 images");
    }
    if (s.labels.dims.size() != 1 || s.labels.dims[0] != s.images.dims[0]) {
        throw Error(ErrorCode::invalid_input, dir + "/" + prefix + ": the label file does not match the image count");
    }
    for (auto label : s.labels.values) {
        if (label >= class_count) throw Error(ErrorCode::invalid_input, dir + "/" + prefix + "-labels: label out of range 0..9");
    }
    return s;
}

ImageSet gather(const RawSplit& raw, const std::vector<std::size_t>& indices) {
    ImageSet set;
    set.pixels.reserve(indices.size() * image_pixels);
    for (std::size_t i : indices) {
        const std::uint8_t* p = raw.images.values.data() + i * image_pixels;
        for (int k = 0; k < image_pixels; ++k) set.pixels.push_back(static_cast<float>(p[k]) / 255.0f);
        set.labels.push_back(raw.labels.values[i]);
        set.source_index.push_back(i);
    }
    return set;
}

}  // namespace

ImageSet ImageSet::head(std::size_t n) const {
    n = std::min(n, size());
    ImageSet s;
    s.pixels.assign(pixels.begin(), pixels.begin() + static_cast<std::ptrdiff_t>(n * image_pixels));
    s.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(n));
    s.source_index.assign(source_index.begin(), source_index.begin() + static_cast<std::ptrdiff_t>(n));
    return s;
}

FashionMnist load_fashion_mnist(const std::string& dir, std::size_t validation_size, std::uint64_t seed) {
    const RawSplit train = read_split(dir, "train");
    const RawSplit test = read_split(dir, "t10k");
    const std::size_t n = train.labels.values.size();
    if (validation_size >= n) throw Error(ErrorCode::invalid_input, "the validation split must be smaller than the training file (" + std::to_string(n) + ")");

    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    const std::vector<std::size_t> train_idx(order.begin(), order.end() - static_cast<std::ptrdiff_t>(validation_size));
    const std::vector<std::size_t> val_idx(order.end() - static_cast<std::ptrdiff_t>(validation_size), order.end());
    std::vector<std::size_t> test_idx(test.labels.values.size());
    std::iota(test_idx.begin(), test_idx.end(), 0);
    return {gather(train, train_idx), gather(train, val_idx), gather(test, test_idx)};
}

}  // namespace hiro::hi
