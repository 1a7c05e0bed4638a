#pragma once

#include <string>

#include "eval/eval_report.h"
#include "eval/svg_chart.h"

namespace hiro::eval {

// Accuracy against cost (USD per 1k queries; share of strong calls when the
// file has no costs): each model as a point, the cascade, the random router,
// the chain cascade and the oracle, each labelled where it is drawn.
SvgChart accuracy_cost_plot(const EvalReport& report);

}  // namespace hiro::eval
