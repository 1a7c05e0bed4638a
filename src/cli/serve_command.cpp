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
        "Serve POST /v1/chat/completions and /v1/completions (stream: true as Server-Sent Events ending in [DONE]),\n"
        "/v1/embeddings, GET /v1/models, /health (liveness), /ready (per-tier readiness) and /metrics (Prometheus).\n"
        "A request's \"model\" names a tier (answered by it, failing over to its fallbacks) or a policy from the config\n"
        "(e.g. a cascade: the edge tier answers, a bigger tier only when the edge's confidence is below the threshold);\n"
        "without one, default_route. Every other request field reaches OpenAI-compatible tiers as sent, and their answers\n"
        "come back as they came, plus a `hiro` object saying which tiers were tried, their confidences, why it stopped, and\n"
        "each tier's latency and cost. Requests are coroutines on io_threads I/O threads (default: one per core):\n"
        "thousands wait on slow upstreams without holding a thread; local tiers decode on a compute pool sized to the\n"
        "cores. A tier may be a pool of endpoints (edge boxes), balanced by their load, health-checked and ejected when\n"
        "they fail; with a latency budget (a policy's deadline_ms, or the header x-hiro-deadline-ms) a request predicted\n"
        "to miss it on the edge goes to the next tier at once. SIGTERM drains requests in flight.\n"
        "See deploy/gateway.example.yaml for every config key.");
    cmd->add_option("--config", args->config, "YAML config: listen, tiers, policies, api_keys, limits, access_log, cors, default_route")->required();
    cmd->add_option("--listen", args->listen, "HOST:PORT to listen on, overriding the config's listen");
    cmd->add_flag("--check", args->check, "validate the config, build the tiers, and exit");
    cmd->callback([args] { run_serve(*args); });
}

}  // namespace hiro::cli
