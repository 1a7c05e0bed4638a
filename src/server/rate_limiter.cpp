#include "server/rate_limiter.h"

#include <algorithm>

namespace hiro::server {

bool RateLimiter::admit(const std::string& key, double& retry_after_s, Clock::time_point now) {
    if (rate_ <= 0) return true;
    std::lock_guard lock(mutex_);
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!fresh) {
        const double elapsed = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
        b.last = now;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return true;
    }
    retry_after_s = (1.0 - b.tokens) / rate_;
    return false;
}

}  // namespace hiro::server
