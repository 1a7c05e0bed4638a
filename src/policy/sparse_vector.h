#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace hiro::policy {

// A feature vector that stores only its non-zero entries (indices ascending).
// Dense features (prompt embeddings) use every index.
struct SparseVector {
    std::vector<std::uint32_t> index;
    std::vector<float> value;

    std::size_t size() const { return index.size(); }

    double dot(std::span<const float> dense) const {
        double sum = 0.0;
        for (std::size_t i = 0; i < index.size(); ++i) sum += static_cast<double>(value[i]) * dense[index[i]];
        return sum;
    }
};

}  // namespace hiro::policy
