#pragma once

#include <memory>
#include <string>

#include "core/query.h"

namespace spdlog {
class logger;
}

namespace hiro::server {

// Where the access log goes and what it may hold.
struct AccessLogSettings {
    std::string path;             // "stderr", a file, or empty for none
    bool include_prompts = false;  // the request body; never by default
};

// One JSON line per request (id, API key name, route, tiers tried, who
// answered, status, latency, tokens, cost), written by a background thread so
// that no I/O thread waits on the disk. Never the key itself; the prompt only
// when configured.
class AccessLog {
public:
    explicit AccessLog(AccessLogSettings settings);
    ~AccessLog();
    bool enabled() const { return logger_ != nullptr; }
    bool include_prompts() const { return settings_.include_prompts; }
    void write(const core::Json& entry);

private:
    AccessLogSettings settings_;
    std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace hiro::server
