#include "core/error.h"
#include "policy/confidence_estimator.h"
#include "policy/logistic_confidence.h"

namespace hiro::policy {

#define HIRO_CONFIDENCE(name, factory, summary) std::unique_ptr<ConfidenceEstimator> factory();
#include "policy/confidence_kinds.def"
#undef HIRO_CONFIDENCE

std::span<const std::string_view> confidence_names() {
    static constexpr std::string_view names[] = {
#define HIRO_CONFIDENCE(kind, factory, summary) #kind,
#include "policy/confidence_kinds.def"
#undef HIRO_CONFIDENCE
    };
    return names;
}

std::unique_ptr<ConfidenceEstimator> make_confidence_estimator(std::string_view name) {
    if (name.starts_with(logistic_prefix)) {
        return make_logistic_confidence(load_logistic_confidence(std::string(name.substr(logistic_prefix.size()))));
    }
#define HIRO_CONFIDENCE(kind, factory, summary) \
    if (name == #kind) return factory();
#include "policy/confidence_kinds.def"
#undef HIRO_CONFIDENCE
    std::string known;
#define HIRO_CONFIDENCE(kind, factory, summary) known += (known.empty() ? "" : ", ") + std::string(#kind);
#include "policy/confidence_kinds.def"
#undef HIRO_CONFIDENCE
    throw core::Error(core::ErrorCode::invalid_input,
                      "unknown confidence estimator '" + std::string(name) + "'; known: " + known + ", logistic:MODEL.json");
}

}  // namespace hiro::policy
