#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/openai_response.h"

namespace hiro::server {

// One tier asked while answering a request.
struct Attempt {
    std::string tier;
    std::string endpoint;  // which endpoint of the tier's pool answered
    std::string outcome;  // accepted, rejected, failed, streamed, overflow
    std::optional<double> confidence;
    std::optional<double> threshold;
    double latency_ms = 0.0;
    double cost_usd = 0.0;
    std::int64_t tokens = 0;         // completion tokens
    std::int64_t prompt_tokens = 0;
    std::string error;
    std::string failure;  // the FailureKind, when failed
    std::string note;     // why an outcome is what it is, when that is not obvious
    std::string overflow; // why the tier was passed over for the next: "predicted 2.3 s > budget 1.0 s"
};

// What happened to a request, as the client, the metrics and the access log
// see it: the `hiro` object of every answer.
struct RequestTrace {
    std::string id;  // hiro's id of the request (the x-request-id header)
    std::string route;
    std::string task;  // what the route's task router predicted the query is
    std::vector<Attempt> attempts;
    std::string answered_by;
    std::string stopped;

    Attempt& add(const std::string& tier);
    double cost_usd() const;
    core::Json json() const;
};

}  // namespace hiro::server
