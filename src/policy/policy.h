#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hiro::policy {

// What a policy may learn from a tier it asked: offline from an outcome file,
// online from a live backend's answer.
struct TierSignal {
    double confidence = 0.0;      // log-probability scale; -inf = none
    std::string_view answer;      // normalised answer text, when known
    std::optional<bool> correct;  // known only offline (the oracle needs it)
};

// The query as a policy sees it before any tier runs (routers score this).
struct QueryView {
    std::string_view id;
    std::string_view prompt;
};

// Lets a policy ask the tiers of its chain, by position, while it decides one
// query. Asking runs (online) or looks up (offline) that tier's answer.
class TierAccess {
public:
    virtual ~TierAccess() = default;
    virtual TierSignal ask(std::size_t position) = 0;
    // Whether a tier would answer correctly, without asking it (and paying).
    // Known only when replaying recorded outcomes; nullopt online.
    virtual std::optional<bool> known_correct(std::size_t position) const = 0;
};

enum class StopReason {
    only_tier,         // a single-tier policy
    confident,         // a tier's confidence met its threshold
    last_tier,         // the chain was exhausted; the last tier answers
    routed,            // a router chose this tier up front
    agreement,         // enough cheap tiers agreed
    oracle,            // the oracle's pick
};

std::string_view to_string(StopReason reason);

// The outcome of deciding one query: which tiers were asked (in order), with
// what confidence, and which of them answers.
struct Decision {
    std::vector<std::size_t> tried;
    std::vector<double> confidences;  // parallel to tried
    std::size_t chosen = 0;           // a position in the policy's tiers
    StopReason reason = StopReason::only_tier;
};

// A routing / cascading policy over an ordered list of named tiers (cheapest
// first). The same object is replayed offline by `hiro eval` and serves live.
class Policy {
public:
    virtual ~Policy() = default;
    virtual std::string describe() const = 0;
    const std::vector<std::string>& tiers() const { return tiers_; }
    virtual Decision decide(const QueryView& query, TierAccess& access) const = 0;
    // True when an answer asked of this tier will be kept whatever it says
    // (the last tier of a cascade; a router's pick), so the gateway can stream
    // it to the client as it is generated instead of judging it first.
    virtual bool keeps_answer_of(std::size_t position) const { return position + 1 == tiers_.size(); }

protected:
    explicit Policy(std::vector<std::string> tiers) : tiers_(std::move(tiers)) {}

private:
    std::vector<std::string> tiers_;
};

}  // namespace hiro::policy
