#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hiro::hi {

inline constexpr int image_side = 28;
inline constexpr int image_pixels = image_side * image_side;
inline constexpr int class_count = 10;

// Images scaled to [0, 1], one row of 784 floats each, with their labels and
// where each came from in its IDX file.
struct ImageSet {
    std::vector<float> pixels;
    std::vector<std::int32_t> labels;
    std::vector<std::size_t> source_index;

    std::size_t size() const { return labels.size(); }
    const float* image(std::size_t i) const { return pixels.data() + i * image_pixels; }
    ImageSet head(std::size_t n) const;  // the first n images
};

// The three splits every figure names: models train on `train`, decision
// modules are fitted on `validation` (carved from the training file, never
// seen in training), everything is reported on `test` (the 10,000 test images).
struct FashionMnist {
    ImageSet train, validation, test;
};

inline const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

// Reads the four IDX files of Debian's dataset-fashion-mnist from `dir` and
// moves a seeded random `validation_size` images of the training file into
// the validation split.
FashionMnist load_fashion_mnist(const std::string& dir, std::size_t validation_size, std::uint64_t seed);

}  // namespace hiro::hi
