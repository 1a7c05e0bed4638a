#pragma once

#include <chrono>
#include <mutex>

namespace hiro::server {

// Skips a tier that keeps failing: after `threshold` failures in a row the
// circuit opens for `cooldown`; then one trial request is let through, and
// its success closes the circuit again.
class CircuitBreaker {
public:
    using Clock = std::chrono::steady_clock;
    CircuitBreaker(int threshold, std::chrono::milliseconds cooldown) : threshold_(threshold), cooldown_(cooldown) {}

    bool allow(Clock::time_point now = Clock::now());
    void record_success();
    // True when this failure opened the circuit.
    bool record_failure(Clock::time_point now = Clock::now());
    // Opens the circuit until `until` (another replica saw the tier fail).
    void hold_open(Clock::time_point until);
    bool is_open(Clock::time_point now = Clock::now()) const;
    // "closed", "open" (skipping the tier) or "half_open" (a trial request may pass).
    const char* state(Clock::time_point now = Clock::now()) const;

private:
    mutable std::mutex mutex_;
    int threshold_;
    std::chrono::milliseconds cooldown_;
    int consecutive_failures_ = 0;
    Clock::time_point open_until_{};
    bool trial_in_flight_ = false;
};

}  // namespace hiro::server
