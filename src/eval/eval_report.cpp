#include "eval/eval_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/router_training.h"
#include "policy/registry.h"

namespace hiro::eval {
namespace {

using core::OutcomeSet;

bool file_has_cost(const OutcomeSet& set) {
    for (std::size_t m = 0; m < set.models.size(); ++m) {
        if (set.has_cost(m)) return true;
    }
    return false;
}

// Costs summed in a different order may differ in the last bits.
bool same_cost(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)); }

// Cheaper first; at equal cost the more accurate first (so a tie never picks
// the weaker of two equally priced models). Without costs: less accurate first.
bool cheaper(const OutcomeSet& set, bool has_cost, std::size_t a, std::size_t b) {
    if (has_cost && !same_cost(set.total_cost(a), set.total_cost(b))) return set.total_cost(a) < set.total_cost(b);
    return has_cost ? set.accuracy(a) > set.accuracy(b) : set.accuracy(a) < set.accuracy(b);
}

std::size_t cheapest_model(const OutcomeSet& set, bool has_cost) {
    std::vector<std::size_t> order(set.models.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    return *std::min_element(order.begin(), order.end(), [&](auto a, auto b) { return cheaper(set, has_cost, a, b); });
}

std::vector<std::string> default_chain(const OutcomeSet& set, bool has_cost) {
    std::vector<std::size_t> with_confidence;
    for (std::size_t m = 0; m < set.models.size(); ++m) {
        if (set.has_confidence(m)) with_confidence.push_back(m);
    }
    if (with_confidence.size() < 3) return {};  // two tiers are the pair's business
    std::stable_sort(with_confidence.begin(), with_confidence.end(), [&](auto a, auto b) {
        if (has_cost && !same_cost(set.total_cost(a), set.total_cost(b))) return set.total_cost(a) < set.total_cost(b);
        return set.accuracy(a) < set.accuracy(b);  // a chain goes up in accuracy
    });
    std::vector<std::string> chain;
    for (auto m : with_confidence) chain.push_back(set.models[m]);
    return chain;
}

// The q-quantile of a model's finite confidences (nearest rank).
double confidence_quantile(const OutcomeSet& set, std::size_t model, double q) {
    std::vector<double> values;
    for (const auto& r : set.records) {
        if (r.models[model].confidence && std::isfinite(*r.models[model].confidence)) values.push_back(*r.models[model].confidence);
    }
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    if (q >= 1.0) return std::nextafter(values.back(), std::numeric_limits<double>::infinity());
    return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5)];
}

void require_confidence(const OutcomeSet& set, const std::vector<std::string>& tiers, std::size_t upto) {
    for (std::size_t i = 0; i < upto; ++i) {
        if (!set.has_confidence(set.model_index(tiers[i]))) {
            throw core::Error(core::ErrorCode::invalid_input,
                              "model '" + tiers[i] + "' has no recorded confidence in " + set.source +
                                  "; a confidence cascade cannot use it (try --policy consistency or random)");
        }
    }
}

ReplayResult replay_spec(const policy::PolicySpec& spec, const OutcomeSet& set) {
    if (spec.kind == "cascade") require_confidence(set, spec.tiers, spec.tiers.size() - 1);
    return replay(*policy::make_policy(spec), set);
}

// The threshold at which the weak -> strong cascade's PGR first reaches 80% on `set`.
double cpt80_threshold(const OutcomeSet& set, std::size_t weak, std::size_t strong) {
    TwoTierSweep sweep(set, weak, strong, confidence_scores(set, weak), Payment::cascade);
    const double share = cpt(sweep.tie_block_curve(), set.accuracy(weak), set.accuracy(strong), 0.8);
    return sweep.at_count(static_cast<std::size_t>(std::ceil(share * static_cast<double>(set.size())))).threshold;
}

std::string percent(double x) { return std::to_string(static_cast<long>(std::lround(100 * x))) + "%"; }

// One line in plain words: what the cascade row buys against the strong model alone.
std::string verdict(const ReplayResult& cascade, const PairReport& pair, const OutcomeSet& set, std::size_t strong, bool has_cost) {
    const std::string name = "cascade " + pair.weak + " → " + pair.strong;
    const std::string where = pair.thresholds_from == "in-sample"
                                  ? "on this file (in-sample threshold)"
                                  : "on this file (threshold fitted on " + pair.thresholds_from + ")";
    const double acc = pair.strong_accuracy > 0 ? cascade.accuracy / pair.strong_accuracy : 0.0;
    const double strong_cost = set.total_cost(strong);
    const std::string gain = percent(acc) + " of " + pair.strong + "'s accuracy";
    if (!has_cost || strong_cost <= 0) {
        return name + ": " + gain + ", asking " + pair.strong + " on " + percent(cascade.reached.back()) + " of queries, " + where +
               " (no costs: give --prices to say whether it pays off)";
    }
    const double cost = cascade.total_cost / strong_cost;
    if (cost >= 1.0 || cascade.accuracy <= pair.weak_accuracy) {
        return name + " does not pay off: " + gain + " at " + percent(cost) + " of its cost " + where;
    }
    return name + ": " + gain + " at " + percent(cost) + " of its cost " + where;
}

// Warnings for router policy files replayed on queries they were trained on
// (router_spec records a hash of each training prompt).
void check_router_training(const policy::PolicySpec& spec, const ReplayResult& result, const OutcomeSet& set,
                           std::vector<std::string>& warnings) {
    if (!spec.model || !spec.model->is_object() || !spec.model->contains("training")) return;
    const auto& training = spec.model->at("training");
    if (!training.contains("prompt_hashes")) return;
    std::unordered_set<std::uint32_t> trained;
    for (const auto& h : training.at("prompt_hashes")) trained.insert(h.get<std::uint32_t>());
    std::size_t seen = 0;
    for (const auto& r : set.records) seen += trained.contains(prompt_fingerprint(r.prompt)) ? 1 : 0;
    if (seen == 0) return;
    const std::string data = training.value("data", std::string("its training data"));
    const double share = static_cast<double>(seen) / static_cast<double>(set.size());
    warnings.push_back("router " + result.policy + " was trained on " + std::to_string(seen) + " of these " +
                       std::to_string(set.size()) + " queries (" + percent(share) + "; trained on " + data + "): " +
                       (share >= 0.5 ? "its figures here are in-sample, not held out; replay it on queries it never saw (e.g. the *_test file)"
                                     : "its figures on those queries are not held out"));
}

PairReport evaluate_pair(const OutcomeSet& set, std::size_t weak, std::size_t strong, const EvalOptions& options,
                         bool has_cost) {
    PairReport pair;
    pair.weak = set.models[weak];
    pair.strong = set.models[strong];
    pair.weak_accuracy = set.accuracy(weak);
    pair.strong_accuracy = set.accuracy(strong);
    std::size_t either = 0;
    for (const auto& r : set.records) either += (r.models[weak].correct || r.models[strong].correct) ? 1 : 0;
    pair.oracle_accuracy = static_cast<double>(either) / static_cast<double>(set.size());
    const double cost_lo = std::min(set.total_cost(weak), set.total_cost(strong));
    const double cost_hi = std::max(set.total_cost(weak), set.total_cost(strong));
    auto to_points = [](const std::vector<CurvePoint>& curve) {
        std::vector<CostAccuracy> pts;
        for (const auto& p : curve) pts.push_back({p.cost, p.accuracy, ""});
        return pts;
    };

    pair.has_confidence = set.has_confidence(weak);
    if (pair.has_confidence && pair.weak_accuracy != pair.strong_accuracy) {
        TwoTierSweep sweep(set, weak, strong, confidence_scores(set, weak), Payment::cascade);
        pair.cascade_curve = sweep.tie_block_curve();
        pair.cascade_apgr = apgr(pair.cascade_curve, pair.weak_accuracy, pair.strong_accuracy);
        pair.cascade_cpt50 = cpt(pair.cascade_curve, pair.weak_accuracy, pair.strong_accuracy, 0.5);
        pair.cascade_cpt80 = cpt(pair.cascade_curve, pair.weak_accuracy, pair.strong_accuracy, 0.8);
        pair.cascade_cpt80_threshold = cpt80_threshold(set, weak, strong);
        if (options.train) {
            // The table row's threshold is picked on the training file, not on this one.
            const OutcomeSet& train = *options.train;
            const std::size_t tw = train.model_index(set.models[weak]), ts = train.model_index(set.models[strong]);
            require_confidence(train, {set.models[weak]}, 1);
            if (train.accuracy(tw) == train.accuracy(ts)) {
                throw core::Error(core::ErrorCode::invalid_input, "--train " + train.source + ": " + set.models[weak] + " and " +
                                                                      set.models[strong] + " are equally accurate there; no threshold to fit");
            }
            pair.cascade_cpt80_threshold = cpt80_threshold(train, tw, ts);
            pair.thresholds_from = train.source;
        }
        if (has_cost) pair.cascade_aiq = aiq(to_points(pair.cascade_curve), cost_lo, cost_hi);
    }

    // The random router in expectation is the straight line between the two
    // models; the seeded shuffles show how far one realisation strays.
    TwoTierSweep expected(set, weak, strong, std::vector<double>(set.size(), 0.0), Payment::router);
    pair.random_curve = expected.tie_block_curve();
    if (has_cost) pair.random_aiq = aiq(to_points(pair.random_curve), cost_lo, cost_hi);
    if (pair.weak_accuracy != pair.strong_accuracy && options.random_seeds > 0) {
        double sum = 0.0, sum_sq = 0.0;
        for (std::size_t seed = 0; seed < options.random_seeds; ++seed) {
            TwoTierSweep shuffled(set, weak, strong, random_scores(set, seed), Payment::router);
            const double a = apgr(shuffled.tie_block_curve(), pair.weak_accuracy, pair.strong_accuracy);
            sum += a;
            sum_sq += a * a;
        }
        const auto k = static_cast<double>(options.random_seeds);
        pair.random_seeds = options.random_seeds;
        pair.random_apgr_seeded_mean = sum / k;
        pair.random_apgr_seeded_sd = std::sqrt(std::max(0.0, sum_sq / k - pair.random_apgr_seeded_mean * pair.random_apgr_seeded_mean));
    }
    return pair;
}

}  // namespace

EvalReport evaluate(const OutcomeSet& set, const EvalOptions& options) {
    EvalReport report;
    report.file = set.source;
    report.confidence_signal = set.confidence_signal;
    report.queries = set.size();
    report.has_cost = file_has_cost(set);

    for (const auto& m : set.models) report.models.push_back(replay(*policy::make_policy({"single", {m}, {}, {}}), set));

    const std::size_t strong = options.strong ? set.model_index(*options.strong) : strongest_model(set);
    const std::size_t weak = options.weak ? set.model_index(*options.weak) : cheapest_model(set, report.has_cost);
    if (weak != strong) {
        report.pair = evaluate_pair(set, weak, strong, options, report.has_cost);
        const std::vector<std::string> pair_tiers{set.models[weak], set.models[strong]};
        report.policies.push_back(replay_spec({"oracle", pair_tiers, {}, {}}, set));
        report.policies.push_back(replay_spec({"random", pair_tiers, {}, {{"strong_share", 0.5}}}, set));
        if (report.pair->has_confidence) {
            // One point of the sweep for the table: where PGR first reaches 80%.
            report.policies.push_back(replay_spec({"cascade", pair_tiers, {report.pair->cascade_cpt80_threshold}, {}}, set));
            report.policies.back().thresholds_from = report.thresholds_from = report.pair->thresholds_from;
            report.verdict = verdict(report.policies.back(), *report.pair, set, strong, report.has_cost);
        }
    }

    std::vector<std::string> chain = options.chain.empty() ? default_chain(set, report.has_cost) : options.chain;
    if (!chain.empty()) {
        if (chain.size() < 2) throw core::Error(core::ErrorCode::invalid_input, "--chain needs at least two models");
        require_confidence(set, chain, chain.size() - 1);
        std::vector<std::size_t> idx;
        for (const auto& m : chain) idx.push_back(set.model_index(m));
        auto thresholds_at = [&](double q) {
            std::vector<double> t;
            for (std::size_t i = 0; i + 1 < idx.size(); ++i) t.push_back(confidence_quantile(set, idx[i], q));
            return t;
        };
        // Thresholds picked on this same file would be tuned in-sample, so the
        // chain gets a table row only with thresholds the user gives (or that
        // hiro calibrate fitted on a train split); its curve is always drawn.
        if (!options.thresholds.empty()) report.policies.push_back(replay_spec({"cascade", chain, options.thresholds, {}}, set));
        for (std::size_t i = 0; i < options.chain_sweep_points; ++i) {
            const double q = options.chain_sweep_points == 1 ? 0.5 : static_cast<double>(i) / static_cast<double>(options.chain_sweep_points - 1);
            ChainCurvePoint p{q, thresholds_at(q), 0, 0, 0};
            const ReplayResult r = replay(*policy::make_policy({"cascade", chain, p.thresholds, {}}), set);
            p.accuracy = r.accuracy;
            p.cost = r.total_cost;
            p.latency_ms = r.mean_latency_ms;
            report.chain_curve.push_back(std::move(p));
        }
    }

    // Without confidence, agreement among the cheap models is the signal.
    std::vector<std::size_t> with_answers;
    for (std::size_t m = 0; m < set.models.size(); ++m) {
        if (m != strong && set.has_answer(m) && !set.has_confidence(m)) with_answers.push_back(m);
    }
    if (with_answers.size() >= 2 && set.has_answer(strong)) {
        std::stable_sort(with_answers.begin(), with_answers.end(), [&](auto a, auto b) {
            if (report.has_cost && !same_cost(set.total_cost(a), set.total_cost(b))) return set.total_cost(a) < set.total_cost(b);
            return set.accuracy(a) < set.accuracy(b);
        });
        std::vector<std::string> tiers;
        for (std::size_t i = 0; i < std::min<std::size_t>(3, with_answers.size()); ++i) tiers.push_back(set.models[with_answers[i]]);
        const double agree = static_cast<double>(tiers.size());
        tiers.push_back(set.models[strong]);
        report.policies.push_back(replay_spec({"consistency", tiers, {}, {{"min_agree", agree}}}, set));
    }

    for (const auto& spec : options.policies) {
        report.policies.push_back(replay_spec(spec, set));
        check_router_training(spec, report.policies.back(), set, report.warnings);
    }

    std::vector<CostAccuracy> points;
    for (const auto& r : report.models) points.push_back({r.total_cost, r.accuracy, r.policy});
    for (const auto& r : report.policies) {
        if (r.policy != "oracle") points.push_back({r.total_cost, r.accuracy, r.policy});  // not achievable
    }
    if (report.pair) {
        for (const auto& p : report.pair->cascade_curve) points.push_back({p.cost, p.accuracy, "cascade " + report.pair->weak + " -> " + report.pair->strong});
    }
    for (const auto& p : report.chain_curve) points.push_back({p.cost, p.accuracy, "chain cascade"});
    if (report.has_cost) report.pareto = pareto_front(points);
    return report;
}

}  // namespace hiro::eval
