// hiro usage: requests, tokens and spend per API key, today and this month,
// read from the Redis the replicas share.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "server/gateway_config.h"
#include "server/key_limiter.h"

namespace hiro::cli {
namespace {

void print_table(const core::Json& usage) {
    std::cout << fmt::format("{:<20} {:<11} {:>9} {:>11} {:>12} {:>9} {:>12}  {}\n", "key", "period", "requests", "tokens", "cost_usd", "in_flight",
                             "reserved_usd", "limits");
    for (const auto& k : usage["keys"]) {
        std::string limits;
        for (const auto& [name, value] : k["limits"].items()) limits += (limits.empty() ? "" : ", ") + name + " " + fmt::format("{}", value.get<double>());
        for (const char* period : {"day", "month"}) {
            const auto& u = k[period];
            std::cout << fmt::format("{:<20} {:<11} {:>9} {:>11} {:>12.6f} {:>9} {:>12.6f}  {}\n", k["key"].get<std::string>(),
                                     u["period"].get<std::string>(), u["requests"].get<std::int64_t>(), u["tokens"].get<std::int64_t>(),
                                     u["cost_usd"].get<double>(), u["in_flight"].get<std::int64_t>(), u["reserved_usd"].get<double>(),
                                     period == std::string("day") ? (limits.empty() ? "none" : limits) : "");
        }
    }
    std::cout << "periods are UTC; in_flight and reserved_usd: requests being answered and the worst case they hold\n";
}

}  // namespace

void add_usage_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("usage", "Requests, tokens and spend per API key, today and this month (from the shared Redis)");
    auto config = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("--config", *config, "the gateway's YAML config (its api_keys and state.redis)")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--json", *json, "print the JSON of GET /v1/usage instead of a table");
    cmd->footer(
        "Reads the Redis named by the config's state.redis, so it works whether the gateway runs or not.\n"
        "Without state.redis each replica keeps its own count: read it with GET /v1/usage and an admin key.");
    cmd->callback([config, json] {
        const server::GatewayConfig c = server::load_gateway_config(*config);
        if (c.state.redis_url.empty()) {
            throw core::Error(core::ErrorCode::invalid_input, *config + " has no state.redis: each replica counts for itself; read its "
                                                                        "GET /v1/usage with an admin key (api_keys[].admin: true)");
        }
        server::Metrics metrics;
        server::SharedState state = c.state;
        state.fail_open = false;
        server::KeyLimiter limiter(server::limits_by_key(c), state, metrics);
        boost::asio::io_context ioc;
        const core::Json usage = backends::run_blocking(ioc, limiter.usage());
        limiter.close();
        if (usage.contains("store_error")) throw core::Error(core::ErrorCode::upstream, usage["store_error"].get<std::string>());
        if (*json) {
            std::cout << usage.dump(2) << "\n";
        } else {
            print_table(usage);
        }
    });
}

}  // namespace hiro::cli
