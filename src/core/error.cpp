#include "core/error.h"

namespace hiro::core {

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_input: return "invalid_input";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::io: return "io";
        case ErrorCode::unsupported: return "unsupported";
        case ErrorCode::upstream: return "upstream";
        case ErrorCode::cancelled: return "cancelled";
        case ErrorCode::internal: return "internal";
    }
    return "internal";
}

}  // namespace hiro::core
