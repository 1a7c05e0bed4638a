#include "server/request_trace.h"

#include <cmath>

namespace hiro::server {

Attempt& RequestTrace::add(const std::string& tier) {
    attempts.push_back(Attempt{});
    attempts.back().tier = tier;
    return attempts.back();
}

double RequestTrace::cost_usd() const {
    double cost = 0.0;
    for (const auto& a : attempts) cost += a.cost_usd;
    return cost;
}

core::Json RequestTrace::json() const {
    core::Json tiers = core::Json::array();
    for (const auto& a : attempts) {
        core::Json t = {{"tier", a.tier}, {"outcome", a.outcome}, {"latency_ms", a.latency_ms}, {"cost_usd", a.cost_usd}, {"tokens", a.tokens}};
        if (a.confidence) t["confidence"] = std::isfinite(*a.confidence) ? core::Json(*a.confidence) : core::Json(nullptr);
        if (a.threshold) t["threshold"] = *a.threshold;
        if (!a.endpoint.empty()) t["endpoint"] = a.endpoint;
        if (!a.overflow.empty()) t["overflow"] = a.overflow;
        if (!a.error.empty()) t["error"] = a.error;
        if (!a.failure.empty()) t["failure"] = a.failure;
        if (!a.note.empty()) t["note"] = a.note;
        tiers.push_back(std::move(t));
    }
    core::Json j = {{"id", id}, {"route", route}, {"answered_by", answered_by.empty() ? core::Json(nullptr) : core::Json(answered_by)},
                    {"stopped", stopped}, {"cost_usd", cost_usd()}, {"tiers", std::move(tiers)}};
    if (!task.empty()) j["task"] = task;
    return j;
}

}  // namespace hiro::server
