#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <set>
#include <string>

#include "core/error.h"
#include "policy/feature_extractor.h"

namespace hiro::policy {
namespace {

// What makes a prompt hard that n-grams miss: how long it is, how many
// quantities it juggles (each is a reasoning step in a word problem) and
// how it is laid out. Counts are log-scaled so a few long prompts do not
// dominate the standardisation.
constexpr std::array names{"words",     "chars_per_word", "numbers",        "distinct_numbers", "largest_number", "decimals",
                           "percents",  "fractions",      "currency",       "sentences",        "questions",      "ratio_words",
                           "rate_words", "comparisons",   "number_words",   "lines",            "symbols"};
constexpr std::size_t statistics = names.size();

bool in(std::string_view word, std::initializer_list<std::string_view> set) { return std::find(set.begin(), set.end(), word) != set.end(); }

std::array<double, statistics> raw_statistics(std::string_view text) {
    double words = 0, letters = 0, numbers = 0, decimals = 0, percents = 0, fractions = 0, currency = 0, sentences = 0, questions = 0;
    double ratio = 0, rate = 0, comparisons = 0, number_words = 0, lines = 0, symbols = 0, largest = 0;
    std::set<std::string> distinct;
    std::string word;
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (std::isdigit(c)) {
            std::string number;
            bool decimal = false;
            while (i < n) {
                const auto d = static_cast<unsigned char>(text[i]);
                const bool digit_follows = i + 1 < n && std::isdigit(static_cast<unsigned char>(text[i + 1]));
                if (std::isdigit(d)) number.push_back(text[i]);
                else if (d == ',' && digit_follows) {}
                else if (d == '.' && digit_follows && !decimal) {
                    decimal = true;
                    number.push_back('.');
                } else break;
                ++i;
            }
            numbers += 1;
            decimals += decimal;
            distinct.insert(number);
            largest = std::max(largest, std::log10(1.0 + std::strtod(number.c_str(), nullptr)));
            if (i < n && text[i] == '/' && i + 1 < n && std::isdigit(static_cast<unsigned char>(text[i + 1]))) fractions += 1;
            continue;
        }
        if (std::isalpha(c)) {
            word.clear();
            while (i < n && std::isalpha(static_cast<unsigned char>(text[i]))) word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++]))));
            words += 1;
            letters += static_cast<double>(word.size());
            ratio += in(word, {"half", "twice", "double", "triple", "third", "quarter", "percent", "times", "ratio"});
            rate += in(word, {"each", "every", "per", "rate", "hour", "week", "month", "year"});
            comparisons += in(word, {"more", "less", "fewer", "than", "left", "remaining", "after", "difference"});
            number_words += in(word, {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                                      "twelve", "twenty", "hundred", "thousand", "million", "dozen"});
            continue;
        }
        percents += c == '%';
        currency += c == '$' || text.substr(i).starts_with("€") || text.substr(i).starts_with("£");
        questions += c == '?';
        lines += c == '\n';
        symbols += c == '=' || c == '+' || c == '*' || c == '^' || c == '{' || c == '}' || c == '(' || c == ')' || c == '<' || c == '>';
        if ((c == '.' || c == '?' || c == '!') && (i + 1 == n || std::isspace(static_cast<unsigned char>(text[i + 1])))) sentences += 1;
        ++i;
    }
    return {std::log1p(words),     words > 0 ? letters / words : 0.0, std::log1p(numbers),   std::log1p(static_cast<double>(distinct.size())),
            largest,               std::log1p(decimals),              std::log1p(percents),  std::log1p(fractions),
            std::log1p(currency),  std::log1p(sentences),             std::log1p(questions), std::log1p(ratio),
            std::log1p(rate),      std::log1p(comparisons),           std::log1p(number_words), std::log1p(lines),
            std::log1p(symbols)};
}

// Standardised with the training prompts' mean and spread, scaled so the
// block's expected squared norm is 1, like one L2-normalised TF-IDF vector.
class PromptStatistics final : public FeatureExtractor {
public:
    PromptStatistics(std::vector<double> mean, std::vector<double> sd) : mean_(std::move(mean)), sd_(std::move(sd)) {}

    std::size_t dimension() const override { return statistics; }

    SparseVector extract(std::string_view text) const override {
        const auto raw = raw_statistics(text);
        const double scale = 1.0 / std::sqrt(static_cast<double>(statistics));
        SparseVector v;
        for (std::uint32_t i = 0; i < statistics; ++i) {
            v.index.push_back(i);
            v.value.push_back(static_cast<float>((raw[i] - mean_[i]) / sd_[i] * scale));
        }
        return v;
    }

    nlohmann::json to_json() const override { return {{"kind", "stats"}, {"names", names}, {"mean", mean_}, {"sd", sd_}}; }

private:
    std::vector<double> mean_, sd_;
};

}  // namespace

std::unique_ptr<FeatureExtractor> fit_prompt_statistics(std::span<const std::string_view> train_prompts, const FeatureOptions&) {
    std::vector<double> mean(statistics, 0.0), sd(statistics, 0.0);
    std::vector<std::array<double, statistics>> rows;
    for (auto prompt : train_prompts) rows.push_back(raw_statistics(prompt));
    const double n = std::max<double>(1.0, static_cast<double>(rows.size()));
    for (const auto& r : rows) for (std::size_t i = 0; i < statistics; ++i) mean[i] += r[i] / n;
    for (const auto& r : rows) for (std::size_t i = 0; i < statistics; ++i) sd[i] += (r[i] - mean[i]) * (r[i] - mean[i]) / n;
    // A statistic constant over the training prompts carries no signal; a unit
    // spread keeps it finite (and zero) instead of dividing by zero.
    for (auto& s : sd) s = s > 1e-12 ? std::sqrt(s) : 1.0;
    return std::make_unique<PromptStatistics>(std::move(mean), std::move(sd));
}

std::unique_ptr<FeatureExtractor> load_prompt_statistics(const nlohmann::json& j) {
    const auto saved = j.at("names").get<std::vector<std::string>>();
    if (!std::equal(saved.begin(), saved.end(), names.begin(), names.end())) {
        throw core::Error(core::ErrorCode::invalid_input, "router features: the stats in this router file differ from this hiro's; retrain it");
    }
    auto mean = j.at("mean").get<std::vector<double>>();
    auto sd = j.at("sd").get<std::vector<double>>();
    if (mean.size() != statistics || sd.size() != statistics || std::any_of(sd.begin(), sd.end(), [](double s) { return !(s > 0); })) {
        throw core::Error(core::ErrorCode::invalid_input, "router features: stats need one mean and one positive sd per statistic");
    }
    return std::make_unique<PromptStatistics>(std::move(mean), std::move(sd));
}

}  // namespace hiro::policy
