#include "core/error.h"
#include "policy/confidence_estimator.h"

namespace hiro::policy {

#define HIRO_CONFIDENCE(name, factory, summary) std::unique_ptr<ConfidenceEstimator> factory();
#include "policy/confidence_kinds.def"
#undef HIRO_CONFIDENCE

std::unique_ptr<ConfidenceEstimator> make_confidence_estimator(std::string_view name) {
#define HIRO_CONFIDENCE(kind, factory, summary) \
    if (name == #kind) return factory();
#include "policy/confidence_kinds.def"
#undef HIRO_CONFIDENCE
    std::string known;
#define HIRO_CONFIDENCE(kind, factory, summary) known += (known.empty() ? "" : ", ") + std::string(#kind);
#include "policy/confidence_kinds.def"
#undef HIRO_CONFIDENCE
    throw core::Error(core::ErrorCode::invalid_input,
                      "unknown confidence estimator '" + std::string(name) + "'; known: " + known);
}

}  // namespace hiro::policy
