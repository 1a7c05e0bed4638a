#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/openai_response.h"
#include "policy/confidence_estimator.h"
#include "policy/policy.h"
#include "policy/task_router.h"
#include "server/cascade_tuning.h"
#include "server/guarded_tier.h"

namespace hiro::server {

// What a request's "model" names: a policy (a configured one, or a single
// tier, which is a one-tier policy) with the estimator that scores live
// answers, bound to the gateway's guarded tiers.
struct Route {
    std::string name;
    std::shared_ptr<const policy::Policy> policy;
    std::shared_ptr<const policy::ConfidenceEstimator> confidence;
    std::vector<double> thresholds;    // for the trace: the cascade's, by position
    core::Json defaults = core::Json::object();  // request fields the policy sets where the client did not
    std::vector<GuardedTier*> tiers;   // parallel to policy->tiers()
    std::vector<std::vector<GuardedTier*>> fallbacks;  // per position: who takes over on failure
    std::optional<double> deadline_ms;  // the latency budget of its requests (a request's x-hiro-deadline-ms overrides it)
    std::shared_ptr<const policy::TaskRouter> task_router;  // sends each query to endpoints tagged with its task
    std::shared_ptr<CascadeTuning> tuning;  // an adaptive cascade's: learns from the queries it answers
};

}  // namespace hiro::server
