// hiro: hierarchical inference and routing of models across device, edge and cloud.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/embedding_opener.h"
#include "core/error.h"

namespace {

int exit_code(hiro::core::ErrorCode code) {
    switch (code) {
        case hiro::core::ErrorCode::invalid_input: return 2;
        case hiro::core::ErrorCode::not_found: return 3;
        case hiro::core::ErrorCode::unsupported: return 4;
        case hiro::core::ErrorCode::upstream: return 5;
        default: return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    // Progress and diagnostics go to stderr; stdout carries only results.
    spdlog::set_default_logger(spdlog::stderr_color_mt("hiro"));
    spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");

    CLI::App app{"hiro: hierarchical inference and routing of models across device, edge and cloud.\n"
                 "Run `hiro COMMAND --help` for a command's options."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "hiro 0.1.0");
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "log debug details to stderr");
    app.parse_complete_callback([&] { spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info); });

    hiro::cli::register_engine_embedder();
    hiro::cli::add_eval_command(app);
    hiro::cli::add_serve_command(app);
    hiro::cli::add_usage_command(app);
    hiro::cli::add_bench_command(app);
    hiro::cli::add_record_command(app);
    hiro::cli::add_fit_confidence_command(app);
    hiro::cli::add_router_command(app);
    hiro::cli::add_calibrate_command(app);
    hiro::cli::add_hi_command(app);
    hiro::cli::add_simulate_command(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const hiro::core::Error& e) {
        std::cerr << "hiro: error: " << e.what() << '\n';
        return exit_code(e.code());
    } catch (const std::exception& e) {
        std::cerr << "hiro: internal error: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
