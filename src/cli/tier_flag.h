#pragma once

#include <string>

#include "backends/tier_factory.h"

namespace hiro::cli {

// A tier given on the command line, as `record` and `serve` take it:
// [NAME=]local:PATH.gguf or [NAME=]openai:URL#MODEL. The name defaults to the
// file's stem or the upstream's model name. Throws an invalid_input
// core::Error showing the expected forms.
backends::TierSpec parse_tier_flag(const std::string& arg);

}  // namespace hiro::cli
