#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace hiro::cli {

// Each subcommand adds itself to the app and runs from its own callback.
// A new subcommand is one new file plus one line in main.cpp.
void add_eval_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_usage_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_record_command(CLI::App& app);
void add_fit_confidence_command(CLI::App& app);
void add_router_command(CLI::App& app);
void add_router_tasks_command(CLI::App& router);  // `hiro router tasks`, under the router command
// The --help sections of the features and methods every router command fits with.
std::string router_kinds_help();
void add_calibrate_command(CLI::App& app);
void add_hi_command(CLI::App& app);
void add_simulate_command(CLI::App& app);

}  // namespace hiro::cli
