#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

#include "hi/hi_report.h"

namespace hiro::hi {
namespace {

const StrategyRow* find(const ScenarioReport& s, std::string_view strategy, std::string_view setting = {}) {
    for (const auto& r : s.rows) {
        if (r.strategy == strategy && (setting.empty() || r.setting == setting)) return &r;
    }
    return nullptr;
}

std::string reduction(double base, double value) { return fmt::format("{:+.0f}%", (value / base - 1.0) * 100.0); }

// The seeds' claim, checked on this scenario: HI against the best on-device
// model meeting the target, EE-HI against HI.
std::string verdict(const ScenarioReport& s) {
    const StrategyRow* best_local = nullptr;
    for (const auto& r : s.rows) {
        if (r.strategy == "on-device" && r.meets_target && (!best_local || r.energy_mj < best_local->energy_mj)) best_local = &r;
    }
    const StrategyRow* hi = find(s, "HI", "max-softmax");
    const StrategyRow* ee = find(s, "EE-HI");
    std::string v;
    if (!hi->meets_target) v += fmt::format("HI's test accuracy {:.4f} is below the target met on validation; ", hi->accuracy);
    if (best_local == nullptr) {
        v += "no on-device model meets the target here (the tiny CNN is not accurate enough, the remote CNN does not fit)";
    } else {
        const bool wins = hi->mean_ms < best_local->mean_ms && hi->energy_mj < best_local->energy_mj;
        v += fmt::format("HI vs on-device {}: latency {}, energy {} -> {}", best_local->setting, reduction(best_local->mean_ms, hi->mean_ms),
                         reduction(best_local->energy_mj, hi->energy_mj), wins ? "HI wins" : "HI does NOT win (link too slow or device fast enough)");
    }
    // EE-HI wins when it is cheaper at (within 0.2 points of) HI's accuracy.
    const bool ee_wins = ee->energy_mj < hi->energy_mj && ee->mean_ms < hi->mean_ms && ee->accuracy >= hi->accuracy - 0.002;
    v += fmt::format("; EE-HI vs HI: latency {}, energy {}, accuracy {:+.4f} -> {}", reduction(hi->mean_ms, ee->mean_ms),
                     reduction(hi->energy_mj, ee->energy_mj), ee->accuracy - hi->accuracy, ee_wins ? "EE-HI wins" : "EE-HI does NOT win");
    return v;
}

}  // namespace

void print_table(std::ostream& out, const HiReport& r) {
    fmt::print(out, "Fashion-MNIST HI: {} train / {} validation / {} test images; decision modules fitted on validation, all figures on test\n",
               r.train_size, r.validation_size, r.test_size);
    fmt::print(out, "\n{:<12} {:>9} {:>10} {:>10} {:>9} {:>9} {:>11} {:>10}  {}\n", "model", "params", "bytes", "MACs", "val acc", "test acc",
               "mean ms", "p95 ms", "(latency: single image, 1 thread, this machine)");
    for (const auto& m : r.models) {
        fmt::print(out, "{:<12} {:>9} {:>10} {:>10.0f} {:>9.4f} {:>9.4f} {:>11.4f} {:>10.4f}  {}\n", m.name, m.parameters, m.bytes, m.macs,
                   m.validation_accuracy, m.test_accuracy, m.latency_mean_ms, m.latency_p95_ms,
                   m.trained ? fmt::format("trained in {:.0f} s", m.train_seconds) : "loaded from cache");
    }
    fmt::print(out, "(early-exit: the exit head after the tiny CNN's first conv block; its accuracy is the exit's alone)\n");
    fmt::print(out, "\ndecision modules (validation): max-softmax T={:.3f}, offload below {:.4f}; top-2 logistic P(wrong)={:.2f}{:+.2f}*p1{:+.2f}*p2, "
                    "tuned cut {:.4f}; exit head T={:.3f}\n",
               r.max_softmax.temperature, r.max_softmax.threshold, r.logistic.bias, r.logistic.w_top1, r.logistic.w_top2, r.logistic.cut,
               r.exit_max_softmax.temperature);
    fmt::print(out, "accuracy target: {:.4f} (thresholds tuned on validation to reach it, then reported on test)\n", r.target);
    for (const auto& s : r.scenarios) {
        fmt::print(out, "\n{} over {} (EE-HI: exit when confidence >= {:.3f}, then offload below {:.4f})\n", s.scenario.device, s.scenario.link,
                   s.thresholds.ee_exit, s.thresholds.ee_hi);
        fmt::print(out, "  {:<13} {:<27} {:>8} {:>10} {:>10} {:>11} {:>8} {:>6}  {}\n", "strategy", "setting", "accuracy", "mean ms", "p95 ms",
                   "energy mJ", "offload", "exit", "target");
        for (const auto& row : s.rows) {
            fmt::print(out, "  {:<13} {:<27} {:>8.4f} {:>10.3f} {:>10.3f} {:>11.4f} {:>8.3f} {:>6.3f}  {}\n", row.strategy, row.setting, row.accuracy,
                       row.mean_ms, row.p95_ms, row.energy_mj, row.offload_share, row.exit_share,
                       !row.fits_device ? "does not fit" : row.meets_target ? "met" : "missed");
        }
        fmt::print(out, "  => {}\n", verdict(s));
    }
    fmt::print(out, "\nper-sample test outcomes for `hiro simulate`: {}\n", r.outcome_file);
    fmt::print(out, "the same on the validation split: {}\n", r.validation_outcome_file);
}

nlohmann::json to_json(const HiReport& r) {
    nlohmann::json j;
    j["splits"] = {{"train", r.train_size}, {"validation", r.validation_size}, {"test", r.test_size}};
    for (const auto& m : r.models) {
        j["models"].push_back({{"name", m.name}, {"file", m.file}, {"parameters", m.parameters}, {"bytes", m.bytes}, {"macs", m.macs},
                               {"trained", m.trained}, {"train_seconds", m.train_seconds}, {"epoch_loss", m.epoch_loss},
                               {"validation_accuracy", m.validation_accuracy}, {"test_accuracy", m.test_accuracy},
                               {"latency_mean_ms", m.latency_mean_ms}, {"latency_p95_ms", m.latency_p95_ms}});
    }
    j["decision_modules"] = {{"fitted_on", "validation"},
                             {"max_softmax", {{"temperature", r.max_softmax.temperature}, {"threshold", r.max_softmax.threshold}}},
                             {"top2_logistic", {{"bias", r.logistic.bias}, {"w_top1", r.logistic.w_top1}, {"w_top2", r.logistic.w_top2}, {"cut", r.logistic.cut}}},
                             {"exit_max_softmax", {{"temperature", r.exit_max_softmax.temperature}}}};
    j["target_accuracy"] = r.target;
    for (const auto& s : r.scenarios) {
        nlohmann::json sj{{"device", s.scenario.device}, {"link", s.scenario.link}, {"split", "test"},
                          {"ee_exit_threshold", s.thresholds.ee_exit}, {"ee_hi_threshold", s.thresholds.ee_hi}, {"verdict", verdict(s)}};
        for (const auto& row : s.rows) {
            sj["strategies"].push_back({{"strategy", row.strategy}, {"setting", row.setting}, {"accuracy", row.accuracy}, {"mean_ms", row.mean_ms},
                                        {"p95_ms", row.p95_ms}, {"energy_mj", row.energy_mj}, {"offload_share", row.offload_share},
                                        {"exit_share", row.exit_share}, {"fits_device", row.fits_device}, {"meets_target", row.meets_target}});
        }
        j["scenarios"].push_back(sj);
    }
    auto sweep = [](const std::vector<SweepPoint>& pts) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& p : pts) a.push_back({{"threshold", p.threshold}, {"accuracy", p.accuracy}, {"mean_ms", p.mean_ms}, {"energy_mj", p.energy_mj}});
        return a;
    };
    j["sweep"] = {{"device", r.sweep_scenario.device}, {"link", r.sweep_scenario.link}, {"split", "test"}, {"hi", sweep(r.hi_sweep)}, {"ee_hi", sweep(r.ee_hi_sweep)}};
    j["outcome_file"] = r.outcome_file;
    j["validation_outcome_file"] = r.validation_outcome_file;
    j["seconds"] = r.seconds;
    return j;
}

}  // namespace hiro::hi
