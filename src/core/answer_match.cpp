#include "core/answer_match.h"

#include <cctype>
#include <regex>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace hiro::core {
namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

MatchMode parse_match_mode(std::string_view name) {
    if (name == "exact") return MatchMode::exact;
    if (name == "normalized") return MatchMode::normalized;
    if (name == "choice") return MatchMode::choice;
    throw Error(ErrorCode::invalid_input, "unknown match mode '" + std::string(name) + "'; use exact, normalized or choice");
}

std::string normalize_answer(std::string_view text) {
    std::string cleaned;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::ispunct(u)) continue;
        cleaned += static_cast<char>(std::tolower(u));
    }
    std::istringstream words(cleaned);
    std::string word, out;
    while (words >> word) {
        if (word == "a" || word == "an" || word == "the") continue;
        out += (out.empty() ? "" : " ") + word;
    }
    return out;
}

std::string extract_choice(std::string_view text) {
    const std::string s(trim(text));
    // Most explicit first: "answer is (B)" / "Answer: B", then a leading "B", "(B)", "B." or "B)".
    static const std::regex stated(R"((?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-Ja-j])\b\)?)", std::regex::icase);
    static const std::regex leading(R"(^\(?([A-Ja-j])(?:[\).:,]|\s|$))");
    std::smatch m;
    if (std::regex_search(s, m, stated)) return upper(m[1].str());
    if (std::regex_search(s, m, leading)) {
        const std::string letter = m[1].str();
        // A lone lower-case "a" opening a sentence is an article, not option A.
        if (letter != "a" || s.size() == 1 || s[1] == ')' || s[1] == '.') return upper(letter);
    }
    return {};
}

std::string judged_answer(std::string_view text, MatchMode mode) {
    switch (mode) {
        case MatchMode::exact: return std::string(trim(text));
        case MatchMode::normalized: return normalize_answer(text);
        case MatchMode::choice: return extract_choice(text);
    }
    return std::string(text);
}

bool answer_matches(std::string_view text, std::string_view gold, MatchMode mode) {
    const std::string answer = judged_answer(text, mode);
    if (mode == MatchMode::choice) return !answer.empty() && answer == upper(std::string(trim(gold)));
    return answer == judged_answer(gold, mode);
}

}  // namespace hiro::core
