#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hiro::policy {

// An answer's text as policies compare answers (the consistency cascade), so
// that "B", " b " and "B." agree: lower case, single spaces, no final period.
std::string agreement_key(std::string_view answer);

// What a policy may learn from a tier it asked: offline from an outcome file,
// online from a live backend's answer.
struct TierSignal {
    double confidence = 0.0;      // log-probability scale; -inf = none
    std::string_view answer;      // the answer's agreement_key, when known
    std::optional<bool> correct;  // known only offline (the oracle needs it)
};

// Whether each tier would answer a query correctly, without asking it: known
// only when replaying recorded outcomes (the oracle needs it).
class RecordedOutcomes {
public:
    virtual ~RecordedOutcomes() = default;
    virtual bool correct(std::size_t position) const = 0;
};

// The query as a policy sees it before any tier runs (routers score this).
struct QueryView {
    std::string_view id;
    std::string_view prompt;
    const RecordedOutcomes* recorded = nullptr;  // null online
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

// One tier a policy asked while deciding a query, and what it said.
struct Asked {
    std::size_t position = 0;
    TierSignal signal;
};

// A decision so far, and once the policy stops, its outcome: which tiers were
// asked (in order), what they said, and which of them answers.
struct Decision {
    std::vector<Asked> asked;
    std::size_t chosen = 0;  // a position in the policy's tiers
    StopReason reason = StopReason::only_tier;

    std::vector<std::size_t> tried() const;
    std::vector<double> confidences() const;
};

// What a policy does next: ask one more tier, or stop and keep the answer of
// a tier it asked.
struct Step {
    bool ask = false;
    std::size_t position = 0;
    StopReason reason = StopReason::only_tier;  // when it stops

    static Step ask_tier(std::size_t position) { return {true, position, StopReason::only_tier}; }
    static Step answer_with(std::size_t position, StopReason reason) { return {false, position, reason}; }
};

// Asks the tiers of a policy's chain, by position: offline it looks the
// answer up in an outcome file, in tests it returns fixed signals.
class TierAccess {
public:
    virtual ~TierAccess() = default;
    virtual TierSignal ask(std::size_t position) = 0;
};

// A routing / cascading policy over an ordered list of named tiers (cheapest
// first). The same object is replayed offline by `hiro eval` and serves live.
//
// A decision is a step function, `next`: given what the tiers asked so far
// said, ask one more or stop. Offline replay loops over it with recorded
// answers (`decide`); the gateway awaits each live tier between two steps, so
// a decision waiting for a tier holds no thread. The policy layer stays free
// of any I/O or coroutine machinery, and both callers run the same code.
class Policy {
public:
    virtual ~Policy() = default;
    virtual std::string describe() const = 0;
    const std::vector<std::string>& tiers() const { return tiers_; }

    // Never asks a tier it already asked; stops after finitely many steps.
    virtual Step next(const QueryView& query, const Decision& so_far) const = 0;

    // The whole decision, asking `access` at each step.
    Decision decide(const QueryView& query, TierAccess& access) const;

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
