// hiro serve: the OpenAI-compatible cascade gateway.
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/tier_flag.h"
#include "core/error.h"
#include "server/gateway.h"
#include "server/gateway_config.h"
#include "server/http_server.h"

namespace hiro::cli {
namespace {

struct ServeArgs {
    std::string config;
    std::vector<std::string> tiers;
    std::vector<std::string> cascade;
    std::vector<double> thresholds;
    std::string listen;
    bool check = false;
    bool print_config = false;
};

// The config the --tier flags stand for, as YAML: the tiers, a cascade over
// them when asked, and that cascade (else the first tier) as the default route.
std::string config_of_flags(const ServeArgs& args) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "listen" << YAML::Value << (args.listen.empty() ? "127.0.0.1:8000" : args.listen);
    out << YAML::Key << "tiers" << YAML::Value << YAML::BeginSeq;
    std::string first;
    for (const auto& flag : args.tiers) {
        const backends::TierSpec t = parse_tier_flag(flag);
        if (first.empty()) first = t.name;
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << t.name << YAML::Key << "kind" << YAML::Value << t.kind;
        if (t.kind == "local") {
            out << YAML::Key << "model_path" << YAML::Value << t.model_path;
        } else {
            out << YAML::Key << "base_url" << YAML::Value << t.base_url << YAML::Key << "model" << YAML::Value << t.model;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    if (!args.cascade.empty()) {
        if (args.thresholds.size() + 1 != args.cascade.size()) {
            throw core::Error(core::ErrorCode::invalid_input, "--cascade of " + std::to_string(args.cascade.size()) + " tiers needs " +
                                                                  std::to_string(args.cascade.size() - 1) +
                                                                  " threshold(s): --threshold, one per tier but the last");
        }
        out << YAML::Key << "policies" << YAML::Value << YAML::BeginSeq << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << "cascade" << YAML::Key << "kind" << YAML::Value << "cascade";
        out << YAML::Key << "tiers" << YAML::Value << YAML::Flow << args.cascade;
        out << YAML::Key << "thresholds" << YAML::Value << YAML::Flow << args.thresholds;
        out << YAML::EndMap << YAML::EndSeq;
    } else if (!args.thresholds.empty()) {
        throw core::Error(core::ErrorCode::invalid_input, "--threshold needs --cascade (the tiers it judges, cheapest first)");
    }
    out << YAML::Key << "default_route" << YAML::Value << (args.cascade.empty() ? first : "cascade");
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

void run_serve(const ServeArgs& args) {
    if (args.config.empty() == args.tiers.empty()) {
        throw core::Error(core::ErrorCode::invalid_input, "give either --config FILE or --tier flags (see hiro serve --help)");
    }
    if (!args.config.empty() && (!args.cascade.empty() || !args.thresholds.empty() || args.print_config)) {
        throw core::Error(core::ErrorCode::invalid_input, "--cascade, --threshold and --print-config go with --tier flags, not --config");
    }
    std::string source = args.config;
    server::GatewayConfig config;
    if (args.config.empty()) {
        const std::string yaml = config_of_flags(args);
        if (args.print_config) {
            std::cout << yaml;
            return;
        }
        source = "the --tier flags";
        config = server::parse_gateway_config(yaml, source);
    } else {
        config = server::load_gateway_config(args.config);
    }
    if (!args.listen.empty()) server::parse_listen_address(args.listen, config.host, config.port);
    server::Gateway gateway(std::move(config));
    if (args.check) {
        spdlog::info("{}: valid ({} tiers, {} policies)", source, gateway.config().tiers.size(), gateway.config().policies.size());
        return;
    }
    server::HttpServer http(gateway);
    http.run();
    spdlog::info("stopped");
}

}  // namespace

void add_serve_command(CLI::App& app) {
    auto args = std::make_shared<ServeArgs>();
    CLI::App* cmd = app.add_subcommand("serve", "Serve an OpenAI-compatible gateway that cascades and routes across tiers");
    cmd->footer(
        "Serve POST /v1/chat/completions and /v1/completions (stream: true as Server-Sent Events ending in [DONE]),\n"
        "/v1/embeddings, /v1/feedback (on an adaptive_cascade's answer), GET /v1/models, /v1/usage (admin keys), /health\n"
        "(liveness), /ready (per-tier readiness) and /metrics (Prometheus).\n"
        "A request's \"model\" names a tier (answered by it, failing over to its fallbacks) or a policy from the config\n"
        "(e.g. a cascade: the edge tier answers, a bigger tier only when the edge's confidence is below the threshold);\n"
        "without one, default_route. Every other request field reaches OpenAI-compatible tiers as sent, and their answers\n"
        "come back as they came, plus a `hiro` object saying which tiers were tried, their confidences, why it stopped, and\n"
        "each tier's latency and cost. Requests are coroutines on io_threads I/O threads (default: one per core):\n"
        "thousands wait on slow upstreams without holding a thread; local tiers decode on a compute pool sized to the\n"
        "cores. A tier may be a pool of endpoints (edge boxes), balanced by their load, health-checked and ejected when\n"
        "they fail; with a latency budget (a policy's deadline_ms, or the header x-hiro-deadline-ms) a request predicted\n"
        "to miss it on the edge goes to the next tier at once. An adaptive_cascade learns its thresholds from what it serves\n"
        "(agreement, background verification, feedback) and persists them (docs/online.md). SIGTERM drains requests in flight.\n"
        "See deploy/gateway.example.yaml for every config key.\n\n"
        "Without a config file:\n"
        "  hiro serve --tier edge=local:small.gguf --tier big=openai:http://127.0.0.1:8080/v1#qwen --cascade edge,big --threshold -1\n"
        "serves the cascade as \"model\": \"cascade\" (and as the default route); --print-config writes its YAML.");
    cmd->add_option("--config", args->config, "YAML config: listen, tiers, policies, api_keys, limits, access_log, cors, default_route");
    cmd->add_option("--tier", args->tiers,
                    "instead of --config: a tier, repeatable, cheapest first: [NAME=]local:PATH.gguf or [NAME=]openai:URL#MODEL");
    cmd->add_option("--cascade", args->cascade, "with --tier: a cascade over these tiers, cheapest first (served as \"cascade\")")->delimiter(',');
    cmd->add_option("--threshold", args->thresholds,
                    "with --cascade: keep a tier's answer when its confidence (mean token log-probability) is at least this; one per tier but the last")
        ->delimiter(',');
    cmd->add_flag("--print-config", args->print_config, "with --tier: write the equivalent YAML config to stdout and exit");
    cmd->add_option("--listen", args->listen, "HOST:PORT to listen on, overriding the config's listen");
    cmd->add_flag("--check", args->check, "validate the config, build the tiers, and exit");
    cmd->callback([args] { run_serve(*args); });
}

}  // namespace hiro::cli
