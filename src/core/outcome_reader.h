#pragma once

#include <string>

#include "core/outcome.h"

namespace hiro::core {

struct ReadOptions {
    // Every line must list exactly the models of line 1. Otherwise the file's
    // models are all those seen, and queries lacking any of them are dropped
    // and counted in OutcomeSet::dropped (mmlupro_9models has 30 such lines).
    bool strict = false;
};

// Reads a hiro outcome file (JSONL, optionally gzipped), streaming one line at
// a time. Optional fields may be missing; Python's non-standard `-Infinity`,
// `Infinity` and `NaN` are read as their IEEE values. A malformed line, an
// empty file, or (strict) lines whose models disagree throw an invalid_input
// Error naming the file, the line and the field.
OutcomeSet read_outcomes(const std::string& path, const ReadOptions& options = {});

}  // namespace hiro::core
