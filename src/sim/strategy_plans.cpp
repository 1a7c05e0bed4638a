#include "sim/strategy_plans.h"

#include "core/error.h"

namespace hiro::sim {
namespace {

using core::Error;
using core::ErrorCode;

double latency_of(const core::OutcomeSet& set, std::size_t model, const core::OutcomeRecord& r) {
    if (!r.models[model].latency_ms) {
        throw Error(ErrorCode::invalid_input, set.source + ": query " + r.id + " has no latency_ms for " + set.models[model] +
                                                  " (the simulator replays recorded service times)");
    }
    return *r.models[model].latency_ms;
}

double confidence_of(const core::OutcomeSet& set, std::size_t model, const core::OutcomeRecord& r) {
    if (!r.models[model].confidence) {
        throw Error(ErrorCode::invalid_input, set.source + ": " + set.models[model] + " has no confidence on query " + r.id +
                                                  ": HI needs the local model's confidence");
    }
    return *r.models[model].confidence;
}

// Time alone on one edge worker: from token counts and the server's measured
// token rates for language models, else the recorded latency scaled to the server.
double edge_service_ms(const core::OutcomeSet& set, std::size_t model, const core::OutcomeRecord& r, const core::ServerProfile& server) {
    const auto& o = r.models[model];
    if (o.tokens_out && server.decode_tokens_per_second > 0 && server.prefill_tokens_per_second > 0) {
        return (static_cast<double>(o.tokens_in.value_or(0)) / server.prefill_tokens_per_second +
                static_cast<double>(*o.tokens_out) / server.decode_tokens_per_second) * 1e3;
    }
    return latency_of(set, model, r) / server.speed_factor;
}

}  // namespace

std::vector<Strategy> build_strategies(const core::OutcomeSet& set, const TierSetup& t, const core::DeviceProfile& device,
                                       const core::ServerProfile& server, const core::CloudProfile& cloud) {
    const std::size_t local = set.model_index(t.local), remote = set.model_index(t.remote);
    const bool ee = !t.exit.empty();
    const std::size_t exit = ee ? set.model_index(t.exit) : 0;
    if (t.local_on_device && !(t.local_macs > 0)) {
        throw Error(ErrorCode::invalid_input, "the local model " + t.local + " runs on the device but its MACs per sample are unknown (pass --models FILE.yaml, written by hiro hi)");
    }
    std::vector<Strategy> out;
    if (t.local_on_device) {
        out = {{"on-device", {}}, {"full offload", {}}, {"HI", {}}};
        if (ee) out.push_back({"EE-HI", {}});
    } else {
        out = {{"edge only", {}}, {"cloud only", {}}, {"edge -> cloud cascade", {}}};
    }
    const float local_device_ms = t.local_on_device ? static_cast<float>(device.compute_ms(t.local_macs)) : 0.0f;
    for (const auto& r : set.records) {
        const float upload = static_cast<float>(t.local_on_device ? t.upload_bytes : std::max<double>(r.prompt.size(), 1.0));
        const bool offload = confidence_of(set, local, r) < t.threshold;
        if (t.local_on_device) {
            const float remote_ms = static_cast<float>(edge_service_ms(set, remote, r, server));
            SamplePlan local_only{local_device_ms, 0, 0, 0, 0, r.models[local].correct};
            SamplePlan full{0, remote_ms, 0, upload, 0, r.models[remote].correct, false, true};
            out[0].plans.push_back(local_only);
            out[1].plans.push_back(full);
            out[2].plans.push_back(offload ? SamplePlan{local_device_ms, remote_ms, 0, upload, 0, r.models[remote].correct, false, true} : local_only);
            if (ee) {
                if (confidence_of(set, exit, r) >= t.exit_threshold) {
                    out[3].plans.push_back({static_cast<float>(device.compute_ms(t.exit_macs)), 0, 0, 0, 0, r.models[exit].correct, true});
                } else {
                    const auto ms = static_cast<float>(device.compute_ms(t.continue_macs));
                    out[3].plans.push_back(confidence_of(set, local, r) < t.ee_threshold ? SamplePlan{ms, remote_ms, 0, upload, 0, r.models[remote].correct, false, true}
                                                   : SamplePlan{ms, 0, 0, 0, 0, r.models[local].correct});
                }
            }
        } else {
            const float slm_ms = static_cast<float>(edge_service_ms(set, local, r, server));
            const float llm_ms = static_cast<float>(latency_of(set, remote, r));
            const float price = static_cast<float>(r.models[remote].cost_usd.value_or(cloud.usd_per_request));
            out[0].plans.push_back({0, slm_ms, 0, upload, 0, r.models[local].correct});
            out[1].plans.push_back({0, 0, llm_ms, upload, price, r.models[remote].correct, false, true});
            out[2].plans.push_back(offload ? SamplePlan{0, slm_ms, llm_ms, upload, price, r.models[remote].correct, false, true}
                                           : SamplePlan{0, slm_ms, 0, upload, 0, r.models[local].correct});
        }
    }
    return out;
}

}  // namespace hiro::sim
