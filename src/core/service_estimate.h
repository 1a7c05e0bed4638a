#pragma once

#include <cstdint>
#include <string>

namespace hiro::core {

// What one endpoint's answers take, learnt from the answers it gave, and what
// a new request would take there now: its wait for a free slot, then its own
// service. The gateway's overflow rule and `hiro simulate`'s cluster model
// both use it, so the simulator predicts what the gateway decides.
//
// Service time is an exponentially weighted mean of whole-answer latencies
// (weight `alpha` on the newest), so it follows an endpoint that slows down
// under load or after a model change within about 1/alpha answers. A request
// arriving while `in_flight` requests hold or wait for the endpoint's `slots`
// waits for in_flight - slots + 1 of them to finish, one every
// service / slots on average (the M/M/c queue's mean wait, without the
// Erlang-C factor, which needs an arrival rate the gateway does not know).
class ServiceEstimate {
public:
    explicit ServiceEstimate(double alpha = 0.2) : alpha_(alpha) {}

    void observe(double latency_ms);
    bool known() const { return samples_ > 0; }
    std::uint64_t samples() const { return samples_; }
    double service_ms() const { return service_ms_; }

    // Queueing + service for a request arriving now; service_ms() when a slot is free.
    double predict_ms(double in_flight, int slots) const;

private:
    double alpha_;
    double service_ms_ = 0.0;
    std::uint64_t samples_ = 0;
};

// The rule that sends a request on to the next tier at once instead of
// queueing it: its predicted latency does not fit in what is left of its
// latency budget.
inline bool overflows(double predicted_ms, double budget_left_ms) { return predicted_ms > budget_left_ms; }

// "predicted 2.3 s > budget 1.0 s": why a request overflowed, for its trace.
std::string overflow_reason(double predicted_ms, double budget_left_ms);

}  // namespace hiro::core
