#include "core/answer_match.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace hiro::core {
namespace {

TEST(AnswerMatch, ExactTrimsOnly) {
    EXPECT_TRUE(answer_matches("  Paris\n", "Paris", MatchMode::exact));
    EXPECT_FALSE(answer_matches("paris", "Paris", MatchMode::exact));
}

TEST(AnswerMatch, NormalizedIgnoresCasePunctuationAndArticles) {
    EXPECT_EQ(normalize_answer("The  Eiffel Tower!"), "eiffel tower");
    EXPECT_TRUE(answer_matches("the eiffel tower.", "Eiffel Tower", MatchMode::normalized));
    EXPECT_FALSE(answer_matches("Tower of London", "Eiffel Tower", MatchMode::normalized));
}

TEST(AnswerMatch, ChoiceFindsTheLetterTheAnswerPicks) {
    EXPECT_EQ(extract_choice("B"), "B");
    EXPECT_EQ(extract_choice(" (c) because..."), "C");
    EXPECT_EQ(extract_choice("D. 42"), "D");
    EXPECT_EQ(extract_choice("The answer is (A)."), "A");
    EXPECT_EQ(extract_choice("Answer: b"), "B");
    EXPECT_EQ(extract_choice("a cat sat on the mat"), "");  // an article, not option A
    EXPECT_EQ(extract_choice("Once upon a time"), "");
    EXPECT_TRUE(answer_matches("(B)", "B", MatchMode::choice));
    EXPECT_FALSE(answer_matches("no idea", "B", MatchMode::choice));
}

TEST(AnswerMatch, UnknownModeNamesTheKnownOnes) {
    try {
        parse_match_mode("fuzzy");
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "unknown match mode 'fuzzy'; use exact, normalized or choice");
    }
}

}  // namespace
}  // namespace hiro::core
