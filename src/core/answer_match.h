#pragma once

#include <string>
#include <string_view>

namespace hiro::core {

// How a generated answer is judged against the gold one.
enum class MatchMode {
    exact,       // identical after trimming surrounding whitespace
    normalized,  // SQuAD-style: lower case, no punctuation, no articles (a/an/the), single spaces
    choice,      // multiple choice: the letter the answer picks (A-J) equals the gold letter
};

// Parses "exact", "normalized" or "choice"; throws an invalid_input Error otherwise.
MatchMode parse_match_mode(std::string_view name);

std::string normalize_answer(std::string_view text);

// The option letter an answer picks: "B", "(B) ...", "B. ...", "The answer is B",
// "Answer: (b)"; empty when it names none.
std::string extract_choice(std::string_view text);

// What hiro records as the answer under `mode` (the letter for choice).
std::string judged_answer(std::string_view text, MatchMode mode);
bool answer_matches(std::string_view text, std::string_view gold, MatchMode mode);

}  // namespace hiro::core
