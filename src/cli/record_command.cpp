// hiro record: run a prompt set through real tiers and write the outcome file
// `hiro eval` replays.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "backends/tier_factory.h"
#include "cli/commands.h"
#include "cli/tier_flag.h"
#include "cli/output_files.h"
#include "cli/prompt_set.h"
#include "core/answer_match.h"
#include "core/error.h"
#include "core/price_table.h"
#include "policy/confidence_estimator.h"

namespace hiro::cli {
namespace {

// Keeps the tiers in the order given (cheapest first), which hiro eval keeps.
using Json = nlohmann::ordered_json;

struct RecordArgs {
    std::string prompts;
    std::vector<std::string> tiers;
    std::string out;
    std::string match = "normalized";
    std::string confidence = "mean_logprob";
    int max_tokens = 32;
    double temperature = 0.0;
    int top_logprobs = 2;
    bool raw = false;
    int threads = 0;
    int context = 0;
    std::string prices;
    std::vector<std::string> energy;
    std::size_t limit = 0;
    std::string json;
};

// Non-finite numbers have no JSON spelling (nlohmann writes null); the lowest
// double keeps "no confidence" least confident, as llama-server does.
double json_safe(double x) { return std::isfinite(x) ? x : std::numeric_limits<double>::lowest(); }

struct TierTally {
    std::size_t answered = 0, correct = 0, failed = 0;
    double latency_ms = 0, cost_usd = 0, energy_j = 0, confidence = 0;
    std::int64_t tokens_in = 0, tokens_out = 0;
};

Json outcome_of(const core::Answer& a, const PromptItem& item, core::MatchMode mode, const policy::ConfidenceEstimator& primary,
                          const std::vector<std::unique_ptr<policy::ConfidenceEstimator>>& signals, TierTally& tally) {
    Json o;
    o["answer"] = core::judged_answer(a.text, mode);
    o["correct"] = core::answer_matches(a.text, item.gold, mode);
    Json s = Json::object();
    for (const auto& e : signals) {
        try {
            s[std::string(e->name())] = json_safe(e->estimate(a.tokens));
        } catch (const core::Error& err) {
            spdlog::debug("{}: signal {} not recorded: {}", item.id, e->name(), err.what());
        }
    }
    const double confidence = primary.estimate(a.tokens);
    o["confidence"] = json_safe(confidence);
    o["signals"] = std::move(s);
    o["latency_ms"] = a.latency_ms;
    o["ttft_ms"] = a.ttft_ms;
    o["tokens_in"] = a.usage.prompt_tokens;
    o["tokens_out"] = a.usage.completion_tokens;
    o["cost_usd"] = a.cost_usd;
    o["energy_j"] = a.energy_j;
    o["finish_reason"] = a.finish_reason;
    o["text"] = a.text;
    ++tally.answered;
    tally.correct += o["correct"].get<bool>() ? 1 : 0;
    tally.latency_ms += a.latency_ms;
    tally.cost_usd += a.cost_usd;
    tally.energy_j += a.energy_j;
    tally.confidence += json_safe(confidence);
    tally.tokens_in += a.usage.prompt_tokens;
    tally.tokens_out += a.usage.completion_tokens;
    return o;
}

// A tier's whole answer, awaited on this thread.
core::Answer answer_of(boost::asio::io_context& io, backends::Tier& tier, const core::Query& query) {
    auto answer = boost::asio::co_spawn(io, tier.generate(query, {}), boost::asio::use_future);
    io.restart();
    io.run();
    return answer.get();
}

void run_record(const RecordArgs& args) {
    const core::MatchMode mode = core::parse_match_mode(args.match);
    const auto primary = policy::make_confidence_estimator(args.confidence);
    std::vector<std::unique_ptr<policy::ConfidenceEstimator>> signals;
    for (std::string_view name : policy::confidence_names()) signals.push_back(policy::make_confidence_estimator(name));
    const std::vector<PromptItem> items = read_prompts(args.prompts, args.limit);
    const core::PriceTable prices = args.prices.empty() ? core::PriceTable{} : core::load_price_table(args.prices);
    std::map<std::string, double, std::less<>> energy;
    for (const auto& e : args.energy) {
        const auto eq = e.find('=');
        try {
            if (eq == std::string::npos) throw std::invalid_argument(e);
            energy[e.substr(0, eq)] = std::stod(e.substr(eq + 1));
        } catch (const std::logic_error&) {
            throw core::Error(core::ErrorCode::invalid_input, "--energy " + e + ": expected NAME=JOULES_PER_TOKEN, e.g. stories260K=0.002");
        }
    }

    std::vector<std::unique_ptr<backends::Tier>> tiers;
    for (const auto& t : args.tiers) {
        backends::TierSpec spec = parse_tier_flag(t);
        spec.threads = args.threads;
        spec.context = args.context;
        if (auto p = prices.find(spec.name)) spec.price = *p;
        if (auto it = energy.find(spec.name); it != energy.end()) spec.energy_j_per_token = it->second;
        spdlog::info("tier {}: {}", spec.name, spec.kind == "local" ? spec.model_path : spec.base_url + " model " + spec.model);
        tiers.push_back(backends::make_tier(spec));
    }

    std::ofstream out(args.out);
    if (!out) throw core::Error(core::ErrorCode::io, "cannot write " + args.out);
    std::vector<TierTally> tally(tiers.size());
    const auto start = std::chrono::steady_clock::now();
    // One I/O context for the whole run: upstream connections are kept alive from one prompt to the next.
    boost::asio::io_context io;
    for (std::size_t q = 0; q < items.size(); ++q) {
        const PromptItem& item = items[q];
        Json fields = {{"max_tokens", args.max_tokens}, {"temperature", args.temperature}, {"logprobs", true},
                       {"top_logprobs", args.top_logprobs}};
        core::Query query;
        if (args.raw) {
            fields["logprobs"] = args.top_logprobs;
            fields.erase("top_logprobs");
            query = core::prompt_query(item.id, item.system.empty() ? item.prompt : item.system + "\n\n" + item.prompt, fields);
        } else {
            std::vector<std::pair<std::string, std::string>> messages;
            if (!item.system.empty()) messages.emplace_back("system", item.system);
            messages.emplace_back("user", item.prompt);
            query = core::chat_query(item.id, messages, fields);
        }

        Json line = {{"id", item.id}, {"prompt", item.prompt}, {"gold", item.gold}, {"confidence_signal", args.confidence}};
        if (!item.task.empty()) line["task"] = item.task;
        if (!item.system.empty()) line["system"] = item.system;
        Json models = Json::object();
        for (std::size_t t = 0; t < tiers.size(); ++t) {
            try {
                models[tiers[t]->name()] = outcome_of(answer_of(io, *tiers[t], query), item, mode, *primary, signals, tally[t]);
            } catch (const core::Error& e) {
                // Kept as a wrong answer, with why, so no query silently disappears.
                spdlog::warn("{} on {}: {}", tiers[t]->name(), item.id, e.what());
                ++tally[t].failed;
                models[tiers[t]->name()] = {{"correct", false}, {"error", e.what()}};
            }
        }
        line["models"] = std::move(models);
        out << line.dump() << '\n';
        if ((q + 1) % 10 == 0 || q + 1 == items.size()) {
            spdlog::info("{}/{} prompts, {:.1f} s", q + 1, items.size(),
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
    }
    out.flush();
    if (!out) throw core::Error(core::ErrorCode::io, "cannot write " + args.out);

    nlohmann::json summary = {{"out", args.out}, {"prompts", items.size()}, {"match", args.match}, {"confidence", args.confidence}, {"tiers", nlohmann::json::array()}};
    for (std::size_t t = 0; t < tiers.size(); ++t) {
        const auto& s = tally[t];
        const double n = static_cast<double>(std::max<std::size_t>(s.answered, 1));
        summary["tiers"].push_back({{"name", tiers[t]->name()}, {"answered", s.answered}, {"failed", s.failed},
                                    {"accuracy", static_cast<double>(s.correct) / static_cast<double>(items.size())},
                                    {"mean_confidence", s.confidence / n}, {"mean_latency_ms", s.latency_ms / n},
                                    {"tokens_in", s.tokens_in}, {"tokens_out", s.tokens_out}, {"cost_usd", s.cost_usd}, {"energy_j", s.energy_j}});
    }
    if (args.json != "-") {
        std::cout << fmt::format("{} prompts from {} -> {} (match {}, confidence {})\n", items.size(), args.prompts, args.out, args.match, args.confidence);
        std::cout << fmt::format("  {:<24} {:>8} {:>6} {:>9} {:>11} {:>12} {:>10} {:>11} {:>10}\n", "tier", "accuracy", "failed",
                                 "mean conf", "latency ms", "tokens in", "tokens out", "cost USD", "energy J");
        for (const auto& t : summary["tiers"]) {
            std::cout << fmt::format("  {:<24} {:>8.3f} {:>6} {:>9.3f} {:>11.1f} {:>12} {:>10} {:>11.6f} {:>10.3f}\n", t["name"].get<std::string>(),
                                     t["accuracy"].get<double>(), t["failed"].get<std::size_t>(), t["mean_confidence"].get<double>(),
                                     t["mean_latency_ms"].get<double>(), t["tokens_in"].get<std::int64_t>(), t["tokens_out"].get<std::int64_t>(),
                                     t["cost_usd"].get<double>(), t["energy_j"].get<double>());
        }
    }
    if (!args.json.empty()) write_json(args.json, summary);
    spdlog::info("wrote {} (replay it with: hiro eval {})", args.out, args.out);
}

}  // namespace

void add_record_command(CLI::App& app) {
    auto args = std::make_shared<RecordArgs>();
    CLI::App* cmd = app.add_subcommand("record", "Run a prompt set through real tiers and write an outcome file for hiro eval");
    cmd->footer(
        "Run every prompt of a JSONL prompt set ({\"prompt\", \"gold\", optional \"id\", \"system\", \"task\"}) through each\n"
        "tier in turn (greedy by default) and write a hiro outcome file: per tier the answer, whether it is correct,\n"
        "every confidence signal (under \"signals\") and the chosen one as \"confidence\", latency, time to first token,\n"
        "tokens, cost and energy. A tier that fails on a prompt is recorded as wrong with its \"error\".");
    cmd->add_option("--prompts", args->prompts, "prompt set (JSONL, optionally .gz)")->required();
    cmd->add_option("--tier", args->tiers,
                    "a tier, repeatable, cheapest first: [NAME=]local:PATH.gguf (in-process llama.cpp) or\n"
                    "[NAME=]openai:URL#MODEL (any OpenAI-compatible server, e.g. openai:http://127.0.0.1:8080/v1#qwen)")
        ->required();
    cmd->add_option("--out", args->out, "outcome file to write (JSONL)")->required();
    cmd->add_option("--match", args->match, "how answers are judged: exact, normalized (SQuAD-style) or choice (multiple-choice letter)")
        ->capture_default_str();
    std::string names;
    for (std::string_view n : policy::confidence_names()) names += (names.empty() ? "" : ", ") + std::string(n);
    cmd->add_option("--confidence", args->confidence, "the signal written as \"confidence\": " + names + ", or logistic:MODEL.json")
        ->capture_default_str();
    cmd->add_option("--max-tokens", args->max_tokens, "tokens to generate per answer")->capture_default_str();
    cmd->add_option("--temperature", args->temperature, "sampling temperature (0 = greedy)")->capture_default_str();
    cmd->add_option("--top-logprobs", args->top_logprobs, "alternatives per token for entropy and margin (local tiers)")->capture_default_str();
    cmd->add_flag("--raw", args->raw, "send prompts as plain completions, without the model's chat template");
    cmd->add_option("--threads", args->threads, "CPU threads of local tiers (default: all)");
    cmd->add_option("--context", args->context, "context size of local tiers in tokens (default: the model's, at most 4096)");
    cmd->add_option("--prices", args->prices, "YAML price table by tier name (USD per 1M tokens) for cost_usd");
    cmd->add_option("--energy", args->energy, "NAME=JOULES_PER_TOKEN for a tier's energy_j (repeatable)");
    cmd->add_option("--limit", args->limit, "record only the first N prompts");
    cmd->add_option("--json", args->json, "write the summary as JSON to this file ('-' = stdout, no table)");
    cmd->callback([args] { run_record(*args); });
}

}  // namespace hiro::cli
