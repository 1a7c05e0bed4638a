#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "backends/http_client.h"

namespace hiro::backends {

// An endpoint's own view of its load.
struct PolledLoad {
    double busy = 0;                 // requests it is working on or has deferred
    std::optional<double> slots;     // requests it serves at once, when it says
};

// GET `path` (from the server's root): healthy when it answers 200 in time.
// `why` says what went wrong otherwise.
Task<bool> check_health(HttpClient& client, const std::string& path, std::chrono::milliseconds timeout, std::string& why);

// Polls llama-server's load: `metrics` reads /metrics (llama-server
// --metrics: llamacpp:requests_processing + llamacpp:requests_deferred) and,
// once, /props for its total_slots; `slots` reads /slots (one entry per
// slot, is_processing). nullopt when the endpoint does not answer; `why`
// says why.
Task<std::optional<PolledLoad>> poll_load(HttpClient& client, const std::string& source, bool know_slots,
                                          std::chrono::milliseconds timeout, std::string& why);

// The parsers, for tests: nullopt when the text is not what llama-server sends.
std::optional<PolledLoad> parse_llama_metrics(const std::string& text);
std::optional<PolledLoad> parse_llama_slots(const std::string& json);

}  // namespace hiro::backends
