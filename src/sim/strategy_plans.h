#pragma once

#include <string>
#include <vector>

#include "core/edge_profiles.h"
#include "core/outcome.h"

namespace hiro::sim {

// One sample's path under a strategy, taken from a real recorded outcome:
// compute on the device, then (if it goes on) the edge server, then the cloud.
// A zero time means that tier is not visited.
struct SamplePlan {
    float device_ms = 0;
    float edge_ms = 0;          // service time alone on one edge worker
    float cloud_ms = 0;         // the cloud model's recorded answer time
    float upload_bytes = 0;     // what the device radio sends, if anything
    float cost_usd = 0;
    bool correct = false, exited = false;
    bool escalated = false;     // answered by the remote model
};

struct Strategy {
    std::string name;
    std::vector<SamplePlan> plans;  // one per outcome record
};

// Which models of the outcome file play which tier, and the thresholds on
// their confidence (the file's log-probability).
struct TierSetup {
    std::string local, remote, exit;  // exit: an early-exit head of the local model ("" = none)
    bool local_on_device = true;      // false: the local model runs on the edge server and the remote one in the cloud (language models)
    double local_macs = 0, exit_macs = 0, continue_macs = 0;  // per sample, for models on the device
    double upload_bytes = 784;        // per sample when the device sends its input (language models: the prompt's bytes)
    double threshold = 0;             // HI: offload when the local confidence is below this
    double exit_threshold = 0;        // EE-HI: answer at the exit when its confidence reaches this
    double ee_threshold = 0;          // EE-HI: offload after the final head when below this
};

// On-device (or edge-only), full offload, HI (cascade) and, with an exit model, EE-HI.
std::vector<Strategy> build_strategies(const core::OutcomeSet& outcomes, const TierSetup& tiers, const core::DeviceProfile& device,
                                       const core::ServerProfile& server, const core::CloudProfile& cloud);

}  // namespace hiro::sim
