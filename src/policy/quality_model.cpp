#include "policy/quality_model.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/error.h"
#include "policy/kind_lookup.h"

namespace hiro::policy {

#define HIRO_QUALITY_MODEL(name, fit, load, summary)                                  \
    std::unique_ptr<QualityModel> fit(const TrainingData&, const FitOptions&); \
    std::unique_ptr<QualityModel> load(const nlohmann::json&);
#include "policy/quality_model_kinds.def"
#undef HIRO_QUALITY_MODEL

namespace {
constexpr QualityModelKind kinds[] = {
#define HIRO_QUALITY_MODEL(name, fit, load, summary) {#name, fit, load, summary},
#include "policy/quality_model_kinds.def"
#undef HIRO_QUALITY_MODEL
};
}  // namespace

std::span<const QualityModelKind> quality_model_kinds() { return kinds; }

std::unique_ptr<QualityModel> fit_quality_model(std::string_view kind, const TrainingData& data, const FitOptions& options) {
    const QualityModelKind& k = find_kind<QualityModelKind>(kinds, kind, "router method");
    if (data.x.empty() || data.models() == 0) throw core::Error(core::ErrorCode::invalid_input, "no training queries to fit a router on");
    return k.fit(data, options);
}

std::unique_ptr<QualityModel> load_quality_model(const nlohmann::json& j) {
    try {
        return find_kind<QualityModelKind>(kinds, j.at("kind").get<std::string>(), "router method").load(j);
    } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::ErrorCode::invalid_input, std::string("router quality model: ") + e.what());
    } catch (const std::out_of_range&) {
        throw core::Error(core::ErrorCode::invalid_input, "router quality model: a weight index is past the dimension");
    }
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace hiro::policy
