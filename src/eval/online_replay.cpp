#include "eval/online_replay.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"
#include "policy/adaptive_cascade.h"

namespace hiro::eval {
namespace {

using policy::AdaptiveCascade;

std::vector<ChainRow> chain_rows(const core::OutcomeSet& set, const std::vector<std::string>& chain) {
    std::vector<std::size_t> models;
    for (const auto& name : chain) models.push_back(set.model_index(name));
    for (std::size_t i = 0; i + 1 < models.size(); ++i) {
        if (!set.has_confidence(models[i])) {
            throw core::Error(core::ErrorCode::invalid_input, "model '" + chain[i] + "' has no recorded confidence in " + set.source +
                                                                  "; an adaptive cascade needs one on every tier but the last");
        }
    }
    std::vector<ChainRow> rows;
    for (const auto& record : set.records) {
        ChainRow row;
        for (std::size_t m : models) {
            const auto& o = record.models[m];
            row.confidence.push_back(o.confidence.value_or(-std::numeric_limits<double>::infinity()));
            row.correct.push_back(o.correct);
            row.cost.push_back(o.cost_usd.value_or(0.0));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// Answers the policy's questions from one recorded query.
class RecordedRow final : public policy::TierAccess {
public:
    explicit RecordedRow(const ChainRow& row) : row_(row) {}
    policy::TierSignal ask(std::size_t position) override { return {row_.confidence[position], {}, row_.correct[position]}; }

private:
    const ChainRow& row_;
};

// What the cascade does from tier `from` on (as decided now): its loss
// counted from there, and what the tiers it asks cost.
struct Continuation {
    double loss = 0.0, cost = 0.0;
};

Continuation continue_from(const AdaptiveCascade& policy, const ChainRow& row, std::size_t from) {
    Continuation c;
    const std::size_t last = row.correct.size() - 1;
    for (std::size_t i = from;; ++i) {
        c.cost += row.cost[i];
        if (i == last || !policy.escalates(i, row.confidence[i])) {
            c.loss += row.correct[i] ? 0.0 : 1.0;
            return c;
        }
        c.loss += policy.lambda();
    }
}

OnlineRun run_order(const std::vector<const ChainRow*>& stream, const std::vector<std::string>& ids, std::size_t switch_at,
                    const std::vector<std::size_t>& points, const OnlineOptions& options, std::uint64_t seed) {
    const policy::PolicySpec& spec = options.policy;
    const auto cascade = policy::build_adaptive_cascade(spec);
    const double lambda = cascade->lambda(), epsilon = cascade->epsilon();
    const std::size_t tiers = spec.tiers.size();
    std::mt19937_64 verify_rng(seed ^ 0x5bd1e995ULL);
    std::uniform_real_distribution<double> unit(0.0, 1.0);

    OnlineRun run;
    std::size_t next_point = 0;
    for (std::size_t t = 0; t < stream.size(); ++t) {
        const ChainRow& row = *stream[t];
        const policy::QueryView query{ids[t], {}, nullptr};
        RecordedRow access(row);
        const policy::Decision d = cascade->decide(query, access);
        double cost = 0.0;
        for (const auto& a : d.asked) cost += row.cost[a.position];
        const double escalations = static_cast<double>(d.asked.size() - 1);
        run.loss.push_back((row.correct[d.chosen] ? 0.0 : 1.0) + lambda * escalations);
        run.escalated.push_back(d.asked.size() > 1 ? 1.0 : 0.0);
        run.cost.push_back(cost);
        if (options.fixed) run.fixed_loss.push_back(cascade_loss(row, *options.fixed, lambda));

        // Everything is worked out with the policy as it decided, then fed.
        std::vector<std::pair<std::size_t, policy::ThresholdObservation>> feed;
        for (const auto& asked : d.asked) {
            const std::size_t j = asked.position;
            if (j + 1 == tiers) break;
            policy::ThresholdObservation o;
            o.confidence = row.confidence[j];
            o.escalated = j + 1 < d.asked.size();
            o.cost_usd = cost;
            const double p_escalate = cascade->escalation_probability(j, o.confidence);
            o.label_probability = options.feedback == Feedback::full ? 1.0 : p_escalate + (1.0 - p_escalate) * epsilon;
            const bool verify = options.feedback == Feedback::realistic && !o.escalated && unit(verify_rng) < epsilon;
            if (options.feedback == Feedback::full || o.escalated || verify) {
                const Continuation rest = continue_from(*cascade, row, j + 1);
                o.losses = policy::ThresholdObservation::Losses{row.correct[j] ? 0.0 : 1.0, lambda + rest.loss};
                if (verify) {
                    run.verified += 1.0;
                    run.verification_cost += rest.cost;
                }
            }
            feed.emplace_back(j, o);
        }
        for (const auto& [j, o] : feed) cascade->observe(j, o);

        if (next_point < points.size() && t + 1 == points[next_point]) {
            run.thresholds.push_back(cascade->thresholds());
            std::vector<const ChainRow*> prefix(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(t + 1));
            const double best = best_fixed_thresholds(prefix, lambda).loss;
            run.best_fixed_loss.push_back(best);
            run.regret.push_back(std::accumulate(run.loss.begin(), run.loss.end(), 0.0) - best);
            ++next_point;
        }
    }
    if (switch_at > 0) {
        std::vector<const ChainRow*> after(stream.begin() + static_cast<std::ptrdiff_t>(switch_at), stream.end());
        run.best_after_switch = best_fixed_thresholds(after, lambda);
        for (const auto* row : after) run.best_after_switch_loss.push_back(cascade_loss(*row, run.best_after_switch.thresholds, lambda));
    }
    return run;
}

}  // namespace

Feedback parse_feedback(const std::string& name) {
    if (name == "full") return Feedback::full;
    if (name == "realistic") return Feedback::realistic;
    throw core::Error(core::ErrorCode::invalid_input, "unknown --feedback '" + name + "'; known: full, realistic");
}

std::string_view to_string(Feedback feedback) { return feedback == Feedback::full ? "full" : "realistic"; }

core::OutcomeSet degrade_model(const core::OutcomeSet& set, const std::string& model, double share, std::uint64_t seed) {
    core::OutcomeSet out = set;
    const std::size_t m = out.model_index(model);
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> correct;
    for (std::size_t r = 0; r < out.size(); ++r) {
        if (out.records[r].models[m].correct) correct.push_back(r);
    }
    std::shuffle(correct.begin(), correct.end(), rng);
    const auto flips = static_cast<std::size_t>(std::llround(share * static_cast<double>(correct.size())));
    for (std::size_t i = 0; i < flips; ++i) out.records[correct[i]].models[m].correct = false;
    out.source = set.source + " (" + model + " degraded: " + std::to_string(flips) + " correct answers turned wrong)";
    return out;
}

std::vector<double> fit_fixed_thresholds(const core::OutcomeSet& train, const std::vector<std::string>& chain, double lambda) {
    const std::vector<ChainRow> rows = chain_rows(train, chain);
    std::vector<const ChainRow*> view;
    for (const auto& r : rows) view.push_back(&r);
    return best_fixed_thresholds(view, lambda).thresholds;
}

OnlineReplay replay_online(const core::OutcomeSet& first, const core::OutcomeSet* second, const OnlineOptions& options) {
    const auto& chain = options.policy.tiers;
    if (chain.size() != 2 && chain.size() != 3) {
        throw core::Error(core::ErrorCode::invalid_input, "--online replays chains of 2 or 3 models (regret in hindsight is exact for those)");
    }
    if (options.orders < 1) throw core::Error(core::ErrorCode::invalid_input, "--online needs at least one order");
    const std::vector<ChainRow> a = chain_rows(first, chain);
    const std::vector<ChainRow> b = second ? chain_rows(*second, chain) : std::vector<ChainRow>{};
    const auto probe = policy::build_adaptive_cascade(options.policy);  // validates the spec once, before any order runs

    OnlineReplay out;
    out.tiers = chain;
    out.learner = probe->learner();
    out.feedback = options.feedback;
    out.lambda = probe->lambda();
    out.epsilon = options.feedback == Feedback::realistic ? probe->epsilon() : 0.0;
    out.queries = a.size() + b.size();
    out.switch_at = second ? a.size() : 0;
    out.fixed = options.fixed;
    for (std::size_t k = 1; k <= trajectory_points; ++k) {
        out.points.push_back(static_cast<std::size_t>(std::llround(static_cast<double>(k * out.queries) / static_cast<double>(trajectory_points))));
    }
    out.points.erase(std::unique(out.points.begin(), out.points.end()), out.points.end());
    std::vector<const ChainRow*> all;
    for (const auto& r : a) all.push_back(&r);
    for (const auto& r : b) all.push_back(&r);
    out.best_fixed = best_fixed_thresholds(all, out.lambda);

    for (std::size_t order = 0; order < options.orders; ++order) {
        std::mt19937_64 rng(order);
        std::vector<std::size_t> pa(a.size()), pb(b.size());
        std::iota(pa.begin(), pa.end(), std::size_t{0});
        std::iota(pb.begin(), pb.end(), std::size_t{0});
        std::shuffle(pa.begin(), pa.end(), rng);
        std::shuffle(pb.begin(), pb.end(), rng);
        std::vector<const ChainRow*> stream;
        std::vector<std::string> ids;
        for (std::size_t i : pa) stream.push_back(&a[i]), ids.push_back(first.records[i].id);
        for (std::size_t i : pb) stream.push_back(&b[i]), ids.push_back(second->records[i].id);
        out.runs.push_back(run_order(stream, ids, out.switch_at, out.points, options, order));
    }
    return out;
}

}  // namespace hiro::eval
