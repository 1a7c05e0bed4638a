#include "eval/hindsight_thresholds.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace hiro::eval {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// Range add, global minimum (with its position): the summed loss of the
// escalated queries for every candidate threshold of the second tier.
class MinTree {
public:
    explicit MinTree(std::size_t size) : size_(size), min_(4 * size, 0.0), pending_(4 * size, 0.0) {}
    void add(std::size_t from, std::size_t to, double value) {  // [from, to)
        if (from < to) add(1, 0, size_, from, to, value);
    }
    double min() const { return min_[1]; }
    std::size_t argmin() const {
        std::size_t node = 1, lo = 0, hi = size_;
        while (hi - lo > 1) {
            const std::size_t mid = (lo + hi) / 2;
            // min_[node] = pending_[node] + min of the children
            if (min_[2 * node] <= min_[2 * node + 1]) node = 2 * node, hi = mid;
            else node = 2 * node + 1, lo = mid;
        }
        return lo;
    }

private:
    void add(std::size_t node, std::size_t lo, std::size_t hi, std::size_t from, std::size_t to, double value) {
        if (to <= lo || hi <= from) return;
        if (from <= lo && hi <= to) {
            min_[node] += value;
            pending_[node] += value;
            return;
        }
        const std::size_t mid = (lo + hi) / 2;
        add(2 * node, lo, mid, from, to, value);
        add(2 * node + 1, mid, hi, from, to, value);
        min_[node] = pending_[node] + std::min(min_[2 * node], min_[2 * node + 1]);
    }
    std::size_t size_;
    std::vector<double> min_, pending_;
};

}  // namespace

double cascade_loss(const ChainRow& row, std::span<const double> thresholds, double lambda) {
    const std::size_t last = row.correct.size() - 1;
    for (std::size_t i = 0;; ++i) {
        if (i == last || row.confidence[i] >= thresholds[i]) return (row.correct[i] ? 0.0 : 1.0) + lambda * static_cast<double>(i);
    }
}

FixedThresholds best_fixed_thresholds(std::span<const ChainRow* const> rows, double lambda) {
    if (rows.empty()) return {};
    const std::size_t tiers = rows[0]->correct.size();
    if (tiers != 2 && tiers != 3) throw core::Error(core::ErrorCode::invalid_input, "regret in hindsight is computed for chains of 2 or 3 tiers");
    const auto wrong = [](const ChainRow& r, std::size_t i) { return r.correct[i] ? 0.0 : 1.0; };
    // Second-tier candidates (3 tiers): every distinct confidence, then +inf.
    std::vector<double> second{inf};
    if (tiers == 3) {
        for (const auto* r : rows) second.push_back(r->confidence[1]);
        std::sort(second.begin(), second.end());
        second.erase(std::unique(second.begin(), second.end()), second.end());
    }
    std::vector<const ChainRow*> by_first(rows.begin(), rows.end());
    std::stable_sort(by_first.begin(), by_first.end(), [](auto a, auto b) { return a->confidence[0] < b->confidence[0]; });
    double accepted = 0.0;  // first-tier loss of the queries it accepts
    for (const auto* r : by_first) accepted += wrong(*r, 0);
    MinTree escalated(second.size());
    FixedThresholds best{{}, inf};
    const auto consider = [&](double first) {
        if (accepted + escalated.min() < best.loss) {
            best.loss = accepted + escalated.min();
            best.thresholds = {first};
            if (tiers == 3) best.thresholds.push_back(second[escalated.argmin()]);
        }
    };
    for (std::size_t i = 0; i < by_first.size();) {
        const double value = by_first[i]->confidence[0];
        consider(value);  // accepts every query from here up
        for (; i < by_first.size() && by_first[i]->confidence[0] == value; ++i) {
            const ChainRow& r = *by_first[i];
            accepted -= wrong(r, 0);
            if (tiers == 2) {
                escalated.add(0, second.size(), lambda + wrong(r, 1));
            } else {
                // The second tier accepts it for thresholds up to its confidence.
                const auto up_to = static_cast<std::size_t>(std::upper_bound(second.begin(), second.end(), r.confidence[1]) - second.begin());
                escalated.add(0, up_to, lambda + wrong(r, 1));
                escalated.add(up_to, second.size(), 2 * lambda + wrong(r, 2));
            }
        }
    }
    consider(inf);
    return best;
}

}  // namespace hiro::eval
