#pragma once

#include <string>

#include "core/error.h"

namespace hiro::backends {

// Why a tier could not answer, precise enough to choose between retrying,
// escalating and telling the client.
enum class FailureKind {
    refused,       // no connection
    timeout,       // connect, first byte or idle time-out
    dropped,       // the connection broke
    http_error,    // the upstream answered 5xx (or another status that is its own fault)
    rate_limited,  // 429
    client_error,  // the upstream refused the request itself (400, 404, 413, ...): the client's to fix
    garbage,       // an answer that is not the OpenAI shape
    busy,          // hiro's own guard: no free slot, the circuit is open, or no endpoint of a pool is healthy
    overflow,      // no endpoint can answer inside the request's latency budget: the next tier should, at once
};

std::string_view to_string(FailureKind kind);

class TierFailure : public core::Error {
public:
    TierFailure(FailureKind kind, int status, std::string retry_after, const std::string& message, std::string body = {})
        : core::Error(core::ErrorCode::upstream, message),
          kind_(kind),
          status_(status),
          retry_after_(std::move(retry_after)),
          body_(std::move(body)) {}

    FailureKind kind() const { return kind_; }
    int status() const { return status_; }  // HTTP status, 0 if none
    const std::string& retry_after() const { return retry_after_; }
    const std::string& body() const { return body_; }  // the upstream's error body, for client errors

private:
    FailureKind kind_;
    int status_;
    std::string retry_after_;
    std::string body_;
};

}  // namespace hiro::backends
