// hiro serve: the OpenAI-compatible cascade gateway.
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "server/gateway.h"
#include "server/gateway_config.h"
#include "server/http_server.h"

namespace hiro::cli {
namespace {

struct ServeArgs {
    std::string config;
    std::string listen;
    bool check = false;
};

void run_serve(const ServeArgs& args) {
    server::GatewayConfig config = server::load_gateway_config(args.config);
    if (!args.listen.empty()) server::parse_listen_address(args.listen, config.host, config.port);
    server::Gateway gateway(std::move(config));
    if (args.check) {
        spdlog::info("{}: valid ({} tiers, {} policies)", args.config, gateway.config().tiers.size(), gateway.config().policies.size());
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
        "Serve POST /v1/chat/completions and /v1/completions (with stream: true as Server-Sent Events), GET /v1/models,\n"
        "/health and /metrics (Prometheus). A request's \"model\" names a tier (answered by it, failing over to its\n"
        "fallbacks) or a policy from the config (e.g. a cascade: the edge tier answers, a bigger tier only when the\n"
        "edge's confidence is below the threshold). Every answer carries a `hiro` object saying which tiers were tried,\n"
        "their confidences, why it stopped, and each tier's latency and cost. Requests are coroutines on io_threads I/O\n"
        "threads (default: one per core): thousands wait on slow upstreams without holding a thread; local tiers decode\n"
        "on a compute pool sized to the cores. SIGTERM drains requests in flight.\n"
        "See deploy/gateway.example.yaml for every config key.");
    cmd->add_option("--config", args->config, "YAML config: listen, tiers, policies, api_keys, limits")->required();
    cmd->add_option("--listen", args->listen, "HOST:PORT to listen on, overriding the config's listen");
    cmd->add_flag("--check", args->check, "validate the config, build the tiers, and exit");
    cmd->callback([args] { run_serve(*args); });
}

}  // namespace hiro::cli
