#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/query.h"
#include "server/cascade_tuning.h"
#include "server/guarded_tier.h"

namespace hiro::server {

// Whether two answers say the same, by a route's rule (TuningSettings::match):
// the same text, the same normalised text, the same option letter, or
// embeddings (of the tuning's embedder) at least min_cosine alike; nullopt
// when the embedding tier failed.
Task<std::optional<bool>> answers_agree(const CascadeTuning& tuning, std::string a, std::string b);

// One answered query to label, after its answer went out.
struct LabelJob {
    std::shared_ptr<CascadeTuning> tuning;
    std::string id;                    // hiro's request id
    std::vector<std::string> answers;  // the text of each position asked, 0..kept
    GuardedTier* verifier = nullptr;   // set: ask this (the next) tier too, and compare
    core::Query query;                 // what the verifier is asked
};

// Works out the labels of `job` and hands them to its tuning: whether each
// escalated tier agreed with the kept answer, and whether the verifier does.
// Runs detached from the request (its client already has the answer), so a
// slow verifier delays nothing but the learning.
Task<void> label_answer(LabelJob job);

}  // namespace hiro::server
