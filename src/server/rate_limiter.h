#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace hiro::server {

// A token bucket per API key: `rate` requests per second on average, bursts
// of up to `burst`. A rate of 0 means unlimited.
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

    // True if the key may make a request now; otherwise `retry_after_s` says
    // when it may.
    bool admit(const std::string& key, double& retry_after_s, Clock::time_point now = Clock::now());

private:
    struct Bucket {
        double tokens;
        Clock::time_point last;
    };
    double rate_, burst_;
    std::mutex mutex_;
    std::map<std::string, Bucket> buckets_;
};

}  // namespace hiro::server
