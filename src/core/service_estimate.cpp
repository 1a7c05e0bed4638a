#include "core/service_estimate.h"

#include <algorithm>
#include <fmt/format.h>

namespace hiro::core {

void ServiceEstimate::observe(double latency_ms) {
    service_ms_ = samples_ == 0 ? latency_ms : service_ms_ + alpha_ * (latency_ms - service_ms_);
    ++samples_;
}

double ServiceEstimate::predict_ms(double in_flight, int slots) const {
    const double c = std::max(slots, 1);
    const double ahead = std::max(0.0, in_flight - c + 1.0);  // requests that must finish before this one starts
    return service_ms_ + ahead * service_ms_ / c;
}

std::string overflow_reason(double predicted_ms, double budget_left_ms) {
    return fmt::format("predicted {:.1f} s > budget {:.1f} s", predicted_ms / 1000.0, budget_left_ms / 1000.0);
}

}  // namespace hiro::core
