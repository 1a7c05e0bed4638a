// hiro simulate: many devices, links and a shared edge server, replaying real per-sample outcomes.
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/output_files.h"
#include "core/error.h"
#include "core/outcome_reader.h"
#include "eval/svg_chart.h"
#include "hi/hi_experiment.h"
#include "sim/edge_cluster.h"
#include "sim/sim_report.h"

namespace hiro::cli {
namespace {

namespace fs = std::filesystem;

struct SimulateArgs {
    std::string outcomes, models, profiles;
    std::string device = "mcu", link = "ble", server = "edge-cpu", cloud = "cloud";
    std::string local, remote, exit;
    std::optional<double> threshold, exit_threshold, ee_threshold;
    sim::SimOptions options;
    std::string json, plot;
};

// The newest outcome file `hiro hi` wrote.
std::string newest_hi_outcomes() {
    const fs::path dir = hi::default_hi_cache_dir();
    std::string best;
    fs::file_time_type best_time{};
    if (fs::is_directory(dir)) {
        for (const auto& f : fs::directory_iterator(dir)) {
            const std::string name = f.path().filename().string();
            if (name.starts_with("fashion_mnist_test-") && name.ends_with(".jsonl") && (best.empty() || f.last_write_time() > best_time)) {
                best = f.path().string();
                best_time = f.last_write_time();
            }
        }
    }
    if (best.empty()) throw core::Error(core::ErrorCode::not_found, "no outcome file given and none in " + dir.string() + ": run `hiro hi` first or pass FILE");
    return best;
}

// The model table `hiro hi` writes next to its outcomes (MACs, bytes, tuned thresholds).
struct ModelTable {
    YAML::Node root;
    double macs(const std::string& model, const char* key = "macs") const {
        return root["models"] && root["models"][model] && root["models"][model][key] ? root["models"][model][key].as<double>() : 0.0;
    }
    std::optional<double> threshold(const char* key) const {
        if (root["thresholds"] && root["thresholds"][key]) return root["thresholds"][key].as<double>();
        return std::nullopt;
    }
};

ModelTable load_model_table(const std::string& path) {
    if (path.empty() || !fs::exists(path)) return {};
    try {
        return {YAML::LoadFile(path)};
    } catch (const YAML::Exception& e) {
        throw core::Error(core::ErrorCode::invalid_input, path + ": not valid YAML: " + e.what());
    }
}

double median_confidence(const core::OutcomeSet& set, std::size_t model) {
    std::vector<double> c;
    for (const auto& r : set.records) c.push_back(r.models[model].confidence.value_or(0.0));
    std::nth_element(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(c.size() / 2), c.end());
    return c[c.size() / 2];
}

// The latency distribution of every strategy as a cumulative curve.
void write_latency_plot(const std::vector<sim::SimResult>& results, const std::string& title, const std::string& path) {
    eval::SvgChart chart(title, "latency (ms)", "share of samples answered");
    const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
    std::size_t i = 0;
    for (const auto& r : results) {
        std::vector<std::pair<double, double>> cdf;
        for (std::size_t q = 0; q < r.latency_percentiles.size(); ++q) cdf.emplace_back(r.latency_percentiles[q], static_cast<double>(q) / 100.0);
        chart.add_line(std::move(cdf), fmt::format("{} (acc {:.3f}, {:.3g} mJ)", r.strategy, r.accuracy, r.energy_mj), colors[i++ % 4]);
    }
    chart.add_note("cumulative latency distribution per strategy; labels give accuracy and device energy per sample");
    chart.write(path);
}

void run_simulate(SimulateArgs& a) {
    if (a.outcomes.empty()) a.outcomes = newest_hi_outcomes();
    if (a.models.empty()) a.models = fs::path(a.outcomes).replace_extension(".models.yaml").string();
    const core::OutcomeSet set = core::read_outcomes(a.outcomes);
    const ModelTable table = load_model_table(a.models);
    const core::EdgeProfiles profiles = core::load_edge_profiles(a.profiles);
    const sim::Environment env{profiles.device(a.device), profiles.link(a.link), profiles.server(a.server), profiles.cloud(a.cloud)};

    sim::TierSetup tiers;
    const bool hi_file = table.macs("tiny") > 0;
    tiers.local = !a.local.empty() ? a.local : hi_file ? "tiny" : set.models.front();
    tiers.remote = !a.remote.empty() ? a.remote : hi_file ? "remote" : set.models.back();
    tiers.exit = !a.exit.empty() ? a.exit : hi_file ? "tiny-exit" : "";
    tiers.local_on_device = table.macs(tiers.local) > 0;
    tiers.local_macs = table.macs(tiers.local);
    tiers.exit_macs = table.macs(tiers.exit);
    tiers.continue_macs = table.macs(tiers.exit, "continue_macs");
    if (table.root["image_bytes"]) tiers.upload_bytes = table.root["image_bytes"].as<double>();
    const std::size_t local = set.model_index(tiers.local);
    tiers.threshold = a.threshold ? *a.threshold : table.threshold("hi").value_or(median_confidence(set, local));
    tiers.exit_threshold = a.exit_threshold ? *a.exit_threshold : table.threshold("exit").value_or(0.0);
    tiers.ee_threshold = a.ee_threshold ? *a.ee_threshold : table.threshold("ee_hi").value_or(tiers.threshold);

    std::vector<sim::SimResult> results;
    nlohmann::json j{{"outcomes", a.outcomes}, {"device", a.device}, {"link", a.link}, {"server", a.server}, {"cloud", a.cloud},
                     {"devices", a.options.devices}, {"samples", a.options.samples}, {"rate_hz", a.options.rate_hz}, {"threshold", tiers.threshold}};
    const auto strategies = sim::build_strategies(set, tiers, env.device, env.server, env.cloud);
    spdlog::info("{} samples of {}: local {} ({}), remote {} ({}); HI offloads below confidence {:.4f}", set.size(), a.outcomes, tiers.local,
                 tiers.local_on_device ? "on the device" : "on the edge server", tiers.remote, tiers.local_on_device ? "edge server" : "cloud",
                 tiers.threshold);
    for (const auto& strategy : strategies) {
        spdlog::info("simulating {}: {} devices x {} samples", strategy.name, a.options.devices, a.options.samples);
        results.push_back(sim::simulate(strategy, env, a.options));
        const auto& r = results.back();
        spdlog::info("  {} events in {:.2f} s: {:.2e} events/s, {:.1f} s simulated", r.events, r.wall_s, static_cast<double>(r.events) / r.wall_s, r.simulated_s);
        j["strategies"].push_back(sim::to_json(r));
    }
    std::uint64_t events = 0;
    double wall = 0;
    for (const auto& r : results) {
        events += r.events;
        wall += r.wall_s;
    }
    j["events_per_s"] = static_cast<double>(events) / wall;
    if (a.json != "-") {
        fmt::print("{} devices ({}) over {} sharing {} ({} workers, batch <= {}, {}); {} samples, {} per device per second\n", a.options.devices,
                   a.device, a.link, a.server, env.server.workers, env.server.max_batch, env.server.discipline, a.options.samples, a.options.rate_hz);
        sim::print_table(std::cout, results);
        fmt::print("simulated {} events in {:.2f} s: {:.3g} events/s\n", events, wall, static_cast<double>(events) / wall);
    }
    if (!a.json.empty()) {
        write_json(a.json, j);
        if (a.json != "-") spdlog::info("wrote {}", a.json);
    }
    if (!a.plot.empty()) {
        write_latency_plot(results, fmt::format("{} devices ({}) over {}, {} per device per second", a.options.devices, a.device, a.link, a.options.rate_hz), a.plot);
        spdlog::info("wrote {}", a.plot);
    }
}

// hiro simulate cluster: the gateway's edge pool with overflow to the cloud.
struct ClusterArgs {
    sim::ClusterOptions options;
    std::string service, cloud;
    std::optional<double> service_ms, cloud_ms;
    std::vector<double> rates, multiples;
    std::string json, plot;
};

// Times from FILE or the single value; `option` names the options in errors.
std::vector<double> cluster_times(const std::string& file, const std::optional<double>& ms, const std::string& option) {
    if (!file.empty()) return sim::read_ms_samples(file);
    if (*ms <= 0) throw core::Error(core::ErrorCode::invalid_input, fmt::format("{}-ms must be positive (got {})", option, *ms));
    return {*ms};
}

void positive_list(const std::vector<double>& values, const char* option) {
    for (double v : values) {
        if (!(v > 0)) throw core::Error(core::ErrorCode::invalid_input, fmt::format("{} takes positive numbers (got {})", option, v));
    }
}

// p95 (as a multiple of the deadline, so both fit one axis) and the cloud share against the load.
void write_cluster_plot(const sim::ClusterOptions& o, const std::vector<sim::ClusterResult>& levels, const std::string& path) {
    const bool deadline = o.deadline_ms > 0;
    const double unit = deadline ? o.deadline_ms : sim::mean_of(o.service_ms);
    eval::SvgChart chart(fmt::format("{} endpoints x {} slot{}, overflow to the cloud", o.endpoints, o.slots, o.slots == 1 ? "" : "s"),
                         "offered load (multiple of the pool's capacity)",
                         deadline ? "p95 latency / deadline;  share of requests" : "p95 latency / mean service;  share of requests");
    std::vector<std::pair<double, double>> p95, share, model;
    for (const auto& r : levels) {
        p95.emplace_back(r.load, r.p95_ms / unit);
        share.emplace_back(r.load, r.cloud_share);
        model.emplace_back(r.load, r.mmc_cloud_share);
    }
    chart.add_line(std::move(p95), deadline ? "p95 latency / deadline" : "p95 latency / mean service", "#1f77b4");
    chart.add_line(std::move(share), "cloud share (simulated)", "#d62728");
    chart.add_line(std::move(model), "cloud share (M/M/c model)", "#d62728");
    chart.add_note(fmt::format("edge service {:.0f} ms mean, capacity {:.3g} req/s; {}; {} requests per level", sim::mean_of(o.service_ms),
                               sim::capacity_per_s(o), deadline ? fmt::format("deadline {:.0f} ms", o.deadline_ms) : std::string("no deadline"),
                               o.requests));
    chart.write(path);
}

void run_cluster(ClusterArgs& a) {
    sim::ClusterOptions& o = a.options;
    if (o.endpoints < 1) throw core::Error(core::ErrorCode::invalid_input, "--endpoints must be at least 1");
    if (o.slots < 1) throw core::Error(core::ErrorCode::invalid_input, "--slots must be at least 1");
    if (o.requests < 1) throw core::Error(core::ErrorCode::invalid_input, "--requests must be at least 1");
    if (!(o.deadline_ms >= 0)) throw core::Error(core::ErrorCode::invalid_input, "--deadline-ms must be positive (or 0: no deadline)");
    if (!(o.cloud_usd >= 0)) throw core::Error(core::ErrorCode::invalid_input, "--cloud-usd must not be negative");
    if (a.service.empty() && !a.service_ms) throw core::Error(core::ErrorCode::invalid_input, "give the edge service times: --service FILE or --service-ms X");
    o.service_ms = cluster_times(a.service, a.service_ms, "--service");
    if (!a.cloud.empty() || a.cloud_ms) {
        o.cloud_ms = cluster_times(a.cloud, a.cloud_ms, "--cloud");
    } else if (o.deadline_ms > 0) {
        throw core::Error(core::ErrorCode::invalid_input, "--deadline-ms overflows requests to the cloud: give its latency with --cloud FILE or --cloud-ms X");
    }
    positive_list(a.rates, "--rates");
    positive_list(a.multiples, "--capacity-multiples");
    std::vector<double> rates = a.rates;
    if (rates.empty()) {
        if (a.multiples.empty()) a.multiples = {0.25, 0.5, 1, 2, 4};
        for (double m : a.multiples) rates.push_back(m * sim::capacity_per_s(o));
    }

    // A level of the default size takes milliseconds; say where long runs are.
    const bool long_run = static_cast<double>(rates.size()) * static_cast<double>(o.requests + o.warmup) >= 1e6;
    std::vector<sim::ClusterResult> levels;
    for (std::size_t i = 0; i < rates.size(); ++i) {
        if (long_run) spdlog::info("level {}/{}: {:.3g} requests/s, {} requests", i + 1, rates.size(), rates[i], o.requests + o.warmup);
        levels.push_back(sim::simulate_cluster(o, rates[i]));
    }
    if (a.json != "-") sim::print_cluster_table(std::cout, o, levels);
    if (!a.plot.empty()) {
        write_cluster_plot(o, levels, a.plot);
        if (a.json != "-") spdlog::info("wrote {}", a.plot);
    }
    if (!a.json.empty()) {
        write_json(a.json, sim::to_json(o, levels));
        if (a.json != "-") spdlog::info("wrote {}", a.json);
    }
}

void add_cluster_command(CLI::App& simulate) {
    auto a = std::make_shared<ClusterArgs>();
    CLI::App* cmd = simulate.add_subcommand("cluster", "A pool of edge endpoints with overflow to the cloud, decided as hiro serve decides it");
    cmd->footer(
        "ENDPOINTS edge endpoints (e.g. llama-server processes) each decode SLOTS requests at once; hiro queues the rest per\n"
        "endpoint (FIFO). Requests arrive as a Poisson stream. Each one goes to the less loaded of two endpoints drawn at random\n"
        "(power of two choices, least outstanding); if that endpoint's learnt service time says the request would not finish\n"
        "within its deadline (core::ServiceEstimate, the gateway's rule) it goes to the cloud at once (unlimited capacity).\n"
        "Per load level: p50/p95/p99 latency, cloud share (and what an M/M/c model says it must be), edge utilisation, queue\n"
        "wait and cloud cost per 1,000 requests. Times files: one number of milliseconds per line, `#` comments.");
    cmd->add_option("--endpoints", a->options.endpoints, "edge endpoints in the pool")->capture_default_str();
    cmd->add_option("--slots", a->options.slots, "requests each endpoint decodes at once")->capture_default_str();
    auto* service = cmd->add_option("--service", a->service, "file of edge service times (ms), drawn uniformly");
    cmd->add_option("--service-ms", a->service_ms, "one constant edge service time (ms)")->excludes(service);
    auto* cloud = cmd->add_option("--cloud", a->cloud, "file of cloud latencies (ms), drawn uniformly");
    cmd->add_option("--cloud-ms", a->cloud_ms, "one constant cloud latency (ms)")->excludes(cloud);
    cmd->add_option("--deadline-ms", a->options.deadline_ms, "every request's latency budget (ms); 0 = none, never overflow")->capture_default_str();
    auto* rates = cmd->add_option("--rates", a->rates, "load levels in requests/s, comma-separated")->delimiter(',');
    cmd->add_option("--capacity-multiples", a->multiples, "load levels as multiples of the pool's capacity (endpoints x slots / mean service) "
                    "[default: 0.25,0.5,1,2,4]")->delimiter(',')->excludes(rates);
    cmd->add_option("--requests", a->options.requests, "measured requests per load level")->capture_default_str();
    cmd->add_option("--warmup", a->options.warmup, "requests simulated first and not measured")->capture_default_str();
    cmd->add_option("--seed", a->options.seed, "seed of arrivals, endpoint choices and drawn times")->capture_default_str();
    cmd->add_option("--cloud-usd", a->options.cloud_usd, "price of one cloud request (USD), for the cost per 1,000 requests")->capture_default_str();
    cmd->add_option("--json", a->json, "write the report as JSON to this file ('-' = stdout, no table)");
    cmd->add_option("--plot", a->plot, "write p95 latency and cloud share against the load as SVG");
    cmd->callback([a] { run_cluster(*a); });
}

}  // namespace

void add_simulate_command(CLI::App& app) {
    auto a = std::make_shared<SimulateArgs>();
    a->profiles = std::string(HIRO_CONFIG_DIR) + "/edge/profiles.yaml";
    CLI::App* cmd = app.add_subcommand("simulate", "Discrete-event simulation of many devices, links and a shared edge server replaying real outcomes");
    cmd->footer(
        "Simulates DEVICES devices (Poisson arrivals) of one device profile, each over its own link, sharing an edge server\n"
        "pool (workers, FIFO/LIFO, batching) and a cloud tier. Every sample replays a real per-sample outcome: with `hiro hi`'s\n"
        "file (default: the newest in the cache) the tiny CNN runs on the device and the remote CNN on the edge server; with\n"
        "a language-model outcome file the first model runs on the edge server and the last in the cloud (tokens/s from the\n"
        "server profile, cloud latency and price as recorded). Reports per strategy the latency distribution, device energy,\n"
        "accuracy, offloaded share, server utilisation and where queues build, and the simulator's events/s.");
    cmd->add_option("outcomes", a->outcomes, "outcome file (default: the newest hiro hi test outcomes in the cache)");
    cmd->add_option("--models", a->models, "model table with MACs per sample (default: OUTCOMES with .models.yaml, written by hiro hi)");
    cmd->add_option("--profiles", a->profiles, "YAML device / link / server / cloud profiles")->capture_default_str();
    cmd->add_option("--device", a->device, "device profile")->capture_default_str();
    cmd->add_option("--link", a->link, "link profile")->capture_default_str();
    cmd->add_option("--server", a->server, "edge server profile")->capture_default_str();
    cmd->add_option("--cloud", a->cloud, "cloud profile")->capture_default_str();
    cmd->add_option("--local", a->local, "the local (first) model (default: tiny, or the file's first model)");
    cmd->add_option("--remote", a->remote, "the remote (fallback) model (default: remote, or the file's last model)");
    cmd->add_option("--exit", a->exit, "the local model's early exit, for EE-HI (default: tiny-exit for hiro hi files)");
    cmd->add_option("--threshold", a->threshold, "HI: offload when the local confidence (log-probability) is below this (default: tuned by hiro hi, else the median)");
    cmd->add_option("--exit-threshold", a->exit_threshold, "EE-HI: answer at the exit when its confidence reaches this (default: tuned by hiro hi)");
    cmd->add_option("--ee-threshold", a->ee_threshold, "EE-HI: offload after the final head below this (default: tuned by hiro hi)");
    cmd->add_option("--devices", a->options.devices, "number of devices")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--samples", a->options.samples, "samples in total, spread over the devices")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--rate", a->options.rate_hz, "Poisson arrivals per device per second")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a->options.seed, "seed of arrivals, losses and replay offsets")->capture_default_str();
    cmd->add_option("--json", a->json, "write the report as JSON to this file ('-' = stdout, no table)");
    cmd->add_option("--plot", a->plot, "write the latency distribution (cumulative) of every strategy as SVG");
    add_cluster_command(*cmd);
    // `hiro simulate cluster` runs its own callback; this one is for the device simulation only.
    cmd->callback([a, cmd] {
        if (!cmd->got_subcommand("cluster")) run_simulate(*a);
    });
}

}  // namespace hiro::cli
