#pragma once

#include <nlohmann/json_fwd.hpp>
#include <ostream>

#include "hi/hi_experiment.h"

namespace hiro::hi {

// The human table: models, decision modules, then per scenario every strategy
// and whether HI / EE-HI beat on-device inference at the accuracy target.
void print_table(std::ostream& out, const HiReport& report);

// The same numbers for machines.
nlohmann::json to_json(const HiReport& report);

}  // namespace hiro::hi
