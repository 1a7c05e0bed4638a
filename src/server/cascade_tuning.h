#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "policy/adaptive_cascade.h"
#include "server/gateway_config.h"
#include "server/guarded_tier.h"
#include "server/metrics.h"

namespace hiro::server {

// What an adaptive cascade did with one live query, kept until the query is
// learned from.
struct AnsweredQuery {
    std::string key;                 // the API key that asked: feedback must come from it (or an admin key)
    std::size_t kept = 0;            // the position whose answer was served
    std::vector<double> confidence;  // positions 0..kept, as the policy judged them
    double cost_usd = 0.0;           // every tier asked, as the trace prices them
    // Worked out after the answer went out (AnswerLabeller):
    std::vector<std::optional<bool>> agrees;  // positions < kept: the escalated tier's answer agreed with the kept one (unknown: embedding failed)
    std::optional<bool> verifier_agrees;   // the next tier, asked in the background, agreed with the kept answer
    bool labelled = false;                 // agreements (and verification) are done
    std::optional<double> feedback_loss;   // 1 - score, from POST /v1/feedback
    bool learned = false;                  // fed to the learners (kept till its window ends, so feedback twice is refused)
    std::chrono::steady_clock::time_point learn_by;  // the end of its feedback window
};

// The live side of one adaptive_cascade route: each query it answers is kept
// until it is labelled (agreement of the tiers it asked, verification by the
// next tier with chance epsilon) and its feedback came or its feedback window
// ended; then every tier the cascade asked observes it, exactly as
// `hiro eval --online` feeds the same policy offline.
//
// Labels, as hierarchical inference takes them: an escalated tier's answer
// was right when it agreed with the kept answer, and escalating cost lambda
// per tier plus the kept answer's loss; without feedback the kept answer (a
// more capable tier's) is taken as right. A verified accepted answer was right
// when the next tier agreed. Feedback on the kept answer overrides the
// assumption (loss 1 - score), and its query counts as labelled for sure
// (label probability 1); a verified one had chance epsilon, an unlabelled one
// teaches only the target controller. Thread-safe.
class CascadeTuning {
public:
    // embedder: the tier of settings.embedding_tier (match: embedding), else null.
    CascadeTuning(std::string route, std::shared_ptr<policy::AdaptiveCascade> cascade, TuningSettings settings, Metrics& metrics,
                  GuardedTier* embedder);

    const std::string& route() const { return route_; }
    policy::AdaptiveCascade& cascade() { return *cascade_; }
    const TuningSettings& settings() const { return settings_; }
    Metrics& metrics() { return metrics_; }
    GuardedTier* embedder() const { return embedder_; }

    // Keeps a query the cascade answered (by hiro's request id); true when its
    // kept answer is to be verified by the next tier (chance epsilon).
    bool answered(const std::string& id, AnsweredQuery query);
    // The labeller's findings; the query is learned from now unless it waits for feedback.
    void labelled(const std::string& id, std::vector<std::optional<bool>> agrees, std::optional<bool> verifier_agrees);

    enum class Verdict { learned, waiting, unknown, already_given, not_yours };
    // Feedback on an answer: score 1 = right, 0 = wrong.
    Verdict feedback(const std::string& id, const std::string& key, bool admin, double score);

    // Learns from the labelled queries whose feedback window ended.
    void learn_expired(std::chrono::steady_clock::time_point now);
    // Learns from every query still waiting, with the labels it has (at shutdown).
    void learn_all();
    // Grows with every observation: a state to persist differs from the last saved one.
    std::uint64_t version() const;
    // The learner's thresholds, as gauges.
    void publish_metrics();

private:
    void learn(AnsweredQuery& q);  // once; mutex_ held

    std::string route_;
    std::shared_ptr<policy::AdaptiveCascade> cascade_;
    TuningSettings settings_;
    Metrics& metrics_;
    GuardedTier* embedder_;
    mutable std::mutex mutex_;
    std::map<std::string, AnsweredQuery> waiting_;  // by request id
    std::deque<std::string> arrival_;               // waiting_'s ids, oldest first (so, by the end of their windows)
    std::mt19937_64 rng_{std::random_device{}()};
    std::uint64_t version_ = 0;
};

// Queries waiting for feedback at most; beyond, the oldest is learned from at
// once (about 200 bytes each).
inline constexpr std::size_t max_waiting_queries = 100000;

// Declares the metrics of live tuning.
void declare_tuning_metrics(Metrics& metrics);

}  // namespace hiro::server
