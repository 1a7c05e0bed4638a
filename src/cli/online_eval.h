#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hiro::cli {

// `hiro eval --online`: the flags only the online replay has.
struct OnlineEvalArgs {
    bool online = false;
    std::string feedback = "realistic";
    std::string learner;  // default: exp_weights, or target with --target
    double lambda = 0.1;
    double epsilon = 0.1;
    double memory = 500.0;
    std::string drift;    // a second outcome file, or degrade:SHARE
    std::string target;   // escalation<=SHARE | cost<=USD_PER_1K (the target controller)
};

void add_online_options(CLI::App& cmd, OnlineEvalArgs& args);

// What `hiro eval` shares with it: the file, chain, warm-start thresholds (or
// a cascade policy file giving both), seeds (orders) and outputs.
struct OnlineEvalInput {
    std::string file, train, prices, json, plot;
    std::vector<std::string> chain, policies;
    std::vector<double> thresholds;
    std::size_t orders = 20;
    bool strict = false;
};

void run_online_eval(const OnlineEvalInput& input, const OnlineEvalArgs& args);

}  // namespace hiro::cli
