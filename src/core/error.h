#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace hiro::core {

// What went wrong, coarse enough to map onto an exit code or an HTTP status.
enum class ErrorCode {
    invalid_input,   // a file, flag or request the user gave is malformed
    not_found,       // a file, model or tier that does not exist
    io,              // the operating system refused a read or write
    unsupported,     // valid, but not something hiro can do
    upstream,        // a backend failed, timed out or answered garbage
    cancelled,       // the caller gave up
    internal,        // a bug in hiro
};

std::string_view to_string(ErrorCode code);

// The one error type hiro throws. The message names what is wrong and, where
// the user can act, how to fix it.
class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

}  // namespace hiro::core
