#pragma once

#include <string>

#include "core/error.h"

namespace hiro::backends {

// Why a tier could not answer, precise enough to choose between retrying,
// escalating and telling the client.
enum class FailureKind { refused, timeout, dropped, http_error, rate_limited, garbage, busy, cancelled };

std::string_view to_string(FailureKind kind);

class TierFailure : public core::Error {
public:
    TierFailure(FailureKind kind, int status, std::string retry_after, const std::string& message)
        : core::Error(kind == FailureKind::cancelled ? core::ErrorCode::cancelled : core::ErrorCode::upstream, message),
          kind_(kind),
          status_(status),
          retry_after_(std::move(retry_after)) {}

    FailureKind kind() const { return kind_; }
    int status() const { return status_; }  // HTTP status, 0 if none
    const std::string& retry_after() const { return retry_after_; }

private:
    FailureKind kind_;
    int status_;
    std::string retry_after_;
};

}  // namespace hiro::backends
