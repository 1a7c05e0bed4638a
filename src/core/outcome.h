#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hiro::core {

// What one model did on one query, as recorded in an outcome file.
struct ModelOutcome {
    bool correct = false;
    std::optional<double> score;
    std::optional<double> confidence;  // a log-probability; -inf means "no confidence at all"
    std::optional<double> cost_usd;
    std::optional<double> latency_ms;
    std::optional<std::int64_t> tokens_in;
    std::optional<std::int64_t> tokens_out;
    std::optional<std::string> answer;
    // Every confidence signal recorded for the answer (hiro record writes them
    // all, by estimator name); `confidence` is the one a cascade uses.
    std::map<std::string, double, std::less<>> signals;
};

// One line of an outcome file. `models` is indexed like OutcomeSet::models.
struct OutcomeRecord {
    std::string id;
    std::string task;
    std::string split;
    std::string subject;
    std::string system;
    std::string prompt;
    std::optional<std::string> gold;
    std::vector<ModelOutcome> models;
};

// A whole outcome file: every record has an outcome for every model.
struct OutcomeSet {
    std::string source;                 // the file it came from, for messages
    std::string confidence_signal;      // e.g. "answer_logprob", when the file says
    std::vector<std::string> models;    // in the order of the first line
    std::vector<OutcomeRecord> records;
    std::size_t dropped = 0;            // queries left out for lacking a model's outcome
    std::string first_dropped;          // the first of them, for messages

    std::size_t size() const { return records.size(); }
    // Index of a model by name; throws a not_found Error listing the known names.
    std::size_t model_index(std::string_view name) const;
    // True when every record carries this field for the model.
    bool has_confidence(std::size_t model) const;
    bool has_cost(std::size_t model) const;
    bool has_latency(std::size_t model) const;
    bool has_answer(std::size_t model) const;

    double accuracy(std::size_t model) const;
    double total_cost(std::size_t model) const;  // missing costs count as 0
    double mean_latency_ms(std::size_t model) const;
};

}  // namespace hiro::core
