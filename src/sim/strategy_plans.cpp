#include "sim/strategy_plans.h"

#include <limits>

#include "core/error.h"
#include "policy/registry.h"

namespace hiro::sim {
namespace {

using core::Error;
using core::ErrorCode;

// One query's recorded outcomes, as a policy asks for them, tier by tier.
class RecordedTiers final : public policy::TierAccess, public policy::RecordedOutcomes {
public:
    RecordedTiers(const core::OutcomeRecord& record, std::vector<std::size_t> models) : record_(record), models_(std::move(models)) {}

    policy::TierSignal ask(std::size_t position) override {
        const auto& o = record_.models[models_.at(position)];
        return {o.confidence.value_or(-std::numeric_limits<double>::infinity()), {}, o.correct};
    }
    bool correct(std::size_t position) const override { return record_.models[models_.at(position)].correct; }

private:
    const core::OutcomeRecord& record_;
    std::vector<std::size_t> models_;
};

// Which tier of `cascade` answers this record: the same policy object `hiro eval` replays and `hiro serve` runs.
std::size_t chosen_tier(const policy::Policy& cascade, const core::OutcomeRecord& r, std::vector<std::size_t> models) {
    RecordedTiers tiers(r, std::move(models));
    return cascade.decide({r.id, r.prompt, &tiers}, tiers).chosen;
}

double latency_of(const core::OutcomeSet& set, std::size_t model, const core::OutcomeRecord& r) {
    if (!r.models[model].latency_ms) {
        throw Error(ErrorCode::invalid_input, set.source + ": query " + r.id + " has no latency_ms for " + set.models[model] +
                                                  " (the simulator replays recorded service times)");
    }
    return *r.models[model].latency_ms;
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

void require_confidence(const core::OutcomeSet& set, std::size_t model) {
    if (!set.has_confidence(model)) {
        throw Error(ErrorCode::invalid_input, set.source + ": " + set.models[model] + " lacks a confidence on some queries: HI needs the local model's confidence");
    }
}

}  // namespace

std::vector<Strategy> build_strategies(const core::OutcomeSet& set, const TierSetup& t, const core::DeviceProfile& device,
                                       const core::ServerProfile& server, const core::CloudProfile& cloud) {
    const std::size_t local = set.model_index(t.local), remote = set.model_index(t.remote);
    require_confidence(set, local);
    const bool ee = !t.exit.empty();
    const std::size_t exit = ee ? set.model_index(t.exit) : 0;
    if (ee) require_confidence(set, exit);
    if (t.local_on_device && !(t.local_macs > 0)) {
        throw Error(ErrorCode::invalid_input, "the local model " + t.local + " runs on the device but its MACs per sample are unknown (pass --models FILE.yaml, written by hiro hi)");
    }
    const auto hi = policy::make_policy({"cascade", {t.local, t.remote}, {t.threshold}, {}});
    const auto ee_hi = ee ? policy::make_policy({"cascade", {t.exit, t.local, t.remote}, {t.exit_threshold, t.ee_threshold}, {}}) : nullptr;

    std::vector<Strategy> out;
    if (t.local_on_device) {
        out = {{"on-device", {}}, {"full offload", {}}, {"HI", {}}};
        if (ee) out.push_back({"EE-HI", {}});
    } else {
        out = {{"edge only", {}}, {"cloud only", {}}, {"edge -> cloud cascade", {}}};
    }
    const float local_device_ms = t.local_on_device ? static_cast<float>(device.compute_ms(t.local, t.local_macs)) : 0.0f;
    for (const auto& r : set.records) {
        const bool offload = chosen_tier(*hi, r, {local, remote}) == 1;
        const bool remote_correct = r.models[remote].correct, local_correct = r.models[local].correct;
        if (t.local_on_device) {
            const auto upload = static_cast<float>(t.upload_bytes);
            const auto remote_ms = static_cast<float>(edge_service_ms(set, remote, r, server));
            const SamplePlan local_only{local_device_ms, 0, 0, 0, 0, local_correct};
            const SamplePlan offloaded{local_device_ms, remote_ms, 0, upload, 0, remote_correct, false, true};
            out[0].plans.push_back(local_only);
            out[1].plans.push_back({0, remote_ms, 0, upload, 0, remote_correct, false, true});
            out[2].plans.push_back(offload ? offloaded : local_only);
            if (ee) {
                const std::size_t tier = chosen_tier(*ee_hi, r, {exit, local, remote});
                SamplePlan p = tier == 2 ? offloaded : local_only;
                p.device_ms = static_cast<float>(tier == 0 ? device.compute_ms(t.exit, t.exit_macs) : device.compute_ms(t.exit + ":continue", t.continue_macs));
                if (tier == 0) {
                    p.correct = r.models[exit].correct;
                    p.exited = true;
                }
                out[3].plans.push_back(p);
            }
        } else {
            const auto upload = static_cast<float>(std::max<double>(static_cast<double>(r.prompt.size()), 1.0));
            const auto slm_ms = static_cast<float>(edge_service_ms(set, local, r, server));
            const auto llm_ms = static_cast<float>(latency_of(set, remote, r));
            const auto price = static_cast<float>(r.models[remote].cost_usd.value_or(cloud.usd_per_request));
            out[0].plans.push_back({0, slm_ms, 0, upload, 0, local_correct});
            out[1].plans.push_back({0, 0, llm_ms, upload, price, remote_correct, false, true});
            out[2].plans.push_back(offload ? SamplePlan{0, slm_ms, llm_ms, upload, price, remote_correct, false, true}
                                           : SamplePlan{0, slm_ms, 0, upload, 0, local_correct});
        }
    }
    return out;
}

}  // namespace hiro::sim
