#include "server/circuit_breaker.h"

#include <algorithm>

namespace hiro::server {

bool CircuitBreaker::allow(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (threshold_ <= 0 || consecutive_failures_ < threshold_) return true;
    if (now < open_until_ || trial_in_flight_) return false;
    trial_in_flight_ = true;  // half-open: one request tests the tier
    return true;
}

void CircuitBreaker::record_success() {
    std::lock_guard lock(mutex_);
    consecutive_failures_ = 0;
    trial_in_flight_ = false;
}

bool CircuitBreaker::record_failure(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    trial_in_flight_ = false;
    if (++consecutive_failures_ < threshold_ || threshold_ <= 0) return false;
    open_until_ = now + cooldown_;
    return true;
}

void CircuitBreaker::hold_open(Clock::time_point until) {
    std::lock_guard lock(mutex_);
    if (threshold_ <= 0 || until <= open_until_) return;
    consecutive_failures_ = std::max(consecutive_failures_, threshold_);
    open_until_ = until;
    trial_in_flight_ = false;
}

bool CircuitBreaker::is_open(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    return threshold_ > 0 && consecutive_failures_ >= threshold_ && now < open_until_;
}

const char* CircuitBreaker::state(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    if (threshold_ <= 0 || consecutive_failures_ < threshold_) return "closed";
    return now < open_until_ ? "open" : "half_open";
}

}  // namespace hiro::server
