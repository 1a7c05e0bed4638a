#include "core/outcome_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <fstream>

#include "core/error.h"
#include "test_paths.h"

namespace hiro::core {
namespace {

using ::testing::HasSubstr;

std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
    const std::string path = dir.file(name);
    std::ofstream(path) << text;
    return path;
}

// The message of the Error reading `text` as an outcome file throws.
std::string read_error(const std::string& text, ReadOptions options = {}) {
    test::TempDir dir;
    const std::string path = write(dir, "bad.jsonl", text);
    try {
        read_outcomes(path, options);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error for: " << text;
    return {};
}

const std::string good = R"({"id": "q1", "prompt": "p", "models": {"a": {"correct": true, "confidence": -0.5}, "b": {"correct": false}}})";

TEST(OutcomeReader, ReadsTheRealLlamaFileWithEveryField) {
    const OutcomeSet set = read_outcomes(test::outcome_file("mmlu_llama_test.jsonl"));
    ASSERT_EQ(set.size(), 1531u);
    EXPECT_EQ(set.models, (std::vector<std::string>{"llama3.2-1b", "llama3.2-3b", "llama3.1-8b", "llama3.1-70b", "llama3.1-405b"}));
    EXPECT_EQ(set.confidence_signal, "answer_logprob");
    const auto& first = set.records[0];
    EXPECT_EQ(first.id, "mmlu-test-0");
    EXPECT_EQ(first.gold, "A");
    EXPECT_EQ(first.subject, "abstract_algebra");
    const auto& m = first.models[set.model_index("llama3.1-8b")];
    EXPECT_FALSE(m.correct);
    EXPECT_DOUBLE_EQ(*m.confidence, -1.06932497);
    EXPECT_DOUBLE_EQ(*m.cost_usd, 2.4600000000000005e-05);
    EXPECT_EQ(*m.tokens_in, 122);
    EXPECT_EQ(*m.answer, "D");
    for (std::size_t i = 0; i < set.models.size(); ++i) {
        EXPECT_TRUE(set.has_confidence(i));
        EXPECT_TRUE(set.has_cost(i));
    }
}

TEST(OutcomeReader, AcceptsFilesWithOnlyCorrectness) {
    const OutcomeSet set = read_outcomes(test::outcome_file("mmlu_routellm.jsonl"));
    EXPECT_EQ(set.size(), 14042u);
    ASSERT_EQ(set.models.size(), 2u);
    EXPECT_FALSE(set.has_confidence(0));
    EXPECT_FALSE(set.has_cost(0));
    EXPECT_FALSE(set.records[0].models[0].answer.has_value());
}

TEST(OutcomeReader, ReadsPythonMinusInfinityAsMinusInfinity) {
    const OutcomeSet set = read_outcomes(test::outcome_file("triviaqa_qwen_oai_test.jsonl"));
    std::size_t infinite = 0;
    for (const auto& r : set.records) {
        for (const auto& m : r.models) {
            if (m.confidence && std::isinf(*m.confidence)) {
                EXPECT_LT(*m.confidence, 0);
                ++infinite;
            }
        }
    }
    EXPECT_GT(infinite, 0u);
    // A quoted "-Infinity" inside a string is text, not a number.
    test::TempDir dir;
    const auto path = write(dir, "s.jsonl",
                            R"({"prompt": "say -Infinity", "models": {"a": {"correct": true, "confidence": -Infinity, "answer": "NaN -Infinity"}}})");
    const OutcomeSet s = read_outcomes(path);
    EXPECT_EQ(s.records[0].prompt, "say -Infinity");
    EXPECT_EQ(*s.records[0].models[0].answer, "NaN -Infinity");
    EXPECT_TRUE(std::isinf(*s.records[0].models[0].confidence));
}

TEST(OutcomeReader, ReadsGzipAndSkipsBlankLines) {
    test::TempDir dir;
    const std::string path = dir.file("x.jsonl.gz");
    gzFile gz = gzopen(path.c_str(), "wb");
    const std::string text = good + "\n\n" + good + "\n";
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
    const OutcomeSet set = read_outcomes(path);
    EXPECT_EQ(set.size(), 2u);
    EXPECT_TRUE(set.records[0].models[0].correct);
    EXPECT_EQ(set.records[1].models[1].correct, false);
}

TEST(OutcomeReader, TruncatedGzipIsAnIoError) {
    test::TempDir dir;
    const std::string path = dir.file("x.jsonl.gz");
    gzFile gz = gzopen(path.c_str(), "wb");
    std::string text;
    for (int i = 0; i < 2000; ++i) text += good + "\n";
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    try {
        read_outcomes(path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::io);
        EXPECT_THAT(e.what(), HasSubstr("truncated"));
    }
}

TEST(OutcomeReader, MissingFileIsNotFound) {
    try {
        read_outcomes("/nonexistent/outcomes.jsonl");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::not_found);
        EXPECT_THAT(e.what(), HasSubstr("/nonexistent/outcomes.jsonl"));
    }
}

TEST(OutcomeReader, EmptyFileIsAnError) {
    EXPECT_THAT(read_error(""), HasSubstr("has no queries: the file is empty"));
    EXPECT_THAT(read_error("\n  \n"), HasSubstr("has no queries"));
}

TEST(OutcomeReader, WrongTypeNamesLineAndField) {
    const std::string bad = R"({"prompt": "p", "models": {"a": {"correct": true}, "gpt-4o": {"correct": "yes"}}})";
    EXPECT_THAT(read_error(good + "\n" + good + "\n" + bad + "\n"),
                HasSubstr("bad.jsonl line 3: models.gpt-4o.correct must be a boolean (got a string)"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "confidence": "high"}}})"),
                HasSubstr("line 1: models.a.confidence must be a number (got a string)"));
    EXPECT_THAT(read_error(R"({"prompt": 3, "models": {"a": {"correct": true}}})"),
                HasSubstr("line 1: prompt must be a string (got a number)"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "tokens_out": 2.5}}})"),
                HasSubstr("models.a.tokens_out must be a whole number"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": []})"), HasSubstr("line 1: models must be an object (got an array)"));
}

TEST(OutcomeReader, MissingRequiredFields) {
    EXPECT_THAT(read_error(R"({"models": {"a": {"correct": true}}})"), HasSubstr("line 1: prompt is missing"));
    EXPECT_THAT(read_error(R"({"prompt": "p"})"), HasSubstr("line 1: models is missing"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"confidence": -1}}})"), HasSubstr("line 1: models.a.correct is missing"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {}})"), HasSubstr("models is empty"));
}

TEST(OutcomeReader, MalformedJsonNamesTheLine) {
    EXPECT_THAT(read_error(good + "\n" + R"({"prompt": "p", "models": {"a": {"correct": tru})" + "\n"), HasSubstr("line 2: "));
    EXPECT_THAT(read_error(good + "\n[1, 2]\n"), HasSubstr("line 2: not a JSON object"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "confidence": NaN}}})"), HasSubstr("confidence is NaN"));
}

TEST(OutcomeReader, StrictModeRejectsModelsThatDisagreeBetweenLines) {
    const ReadOptions strict{true};
    const std::string missing_b = R"({"prompt": "p", "models": {"a": {"correct": true}}})";
    EXPECT_THAT(read_error(good + "\n" + missing_b + "\n", strict),
                HasSubstr("line 2: models.b is missing (line 1 has it; every line must list the same models)"));
    const std::string extra_c = R"({"prompt": "p", "models": {"a": {"correct": true}, "b": {"correct": true}, "c": {"correct": true}}})";
    EXPECT_THAT(read_error(good + "\n" + extra_c + "\n", strict), HasSubstr("line 2: models.c is not among the models of line 1"));
    const std::string twice = R"({"prompt": "p", "models": {"a": {"correct": true}, "a": {"correct": true}}})";
    EXPECT_THAT(read_error(twice), HasSubstr("models.a appears twice"));
}

TEST(OutcomeReader, ByDefaultQueriesLackingAModelAreDroppedAndCounted) {
    const OutcomeSet set = read_outcomes(test::outcome_file("mmlupro_9models.jsonl"));
    EXPECT_EQ(set.models.size(), 9u);
    EXPECT_EQ(set.size() + set.dropped, 12032u);
    EXPECT_EQ(set.dropped, 30u);
    EXPECT_EQ(set.first_dropped, "line 14 has no outcome for gemini-1.5-pro");
    for (const auto& r : set.records) ASSERT_EQ(r.models.size(), 9u);
    // A model that first appears late drops the earlier lines, which lack it.
    const std::string extra_c = R"({"prompt": "p", "models": {"a": {"correct": true}, "b": {"correct": true}, "c": {"correct": true}}})";
    test::TempDir dir;
    const OutcomeSet late = read_outcomes(write(dir, "late.jsonl", good + "\n" + extra_c + "\n"));
    EXPECT_EQ(late.size(), 1u);
    EXPECT_EQ(late.first_dropped, "line 1 has no outcome for c");
    const std::string only_a = R"({"prompt": "p", "models": {"a": {"correct": true}}})";
    const std::string only_b = R"({"prompt": "p", "models": {"b": {"correct": true}}})";
    EXPECT_THAT(read_error(only_a + "\n" + only_b + "\n"), HasSubstr("has no query with an outcome for every model (line 1 has no outcome for b)"));
}

TEST(OutcomeReader, ModelsMayComeInAnyOrder) {
    test::TempDir dir;
    const std::string swapped = R"({"prompt": "p", "models": {"b": {"correct": true}, "a": {"correct": false}}})";
    const OutcomeSet set = read_outcomes(write(dir, "ok.jsonl", good + "\n" + swapped + "\n"));
    EXPECT_FALSE(set.records[1].models[set.model_index("a")].correct);
    EXPECT_TRUE(set.records[1].models[set.model_index("b")].correct);
}

TEST(OutcomeReader, UnknownModelNamesTheKnownOnes) {
    const OutcomeSet set = read_outcomes(test::outcome_file("mmlu_qwen_oai_train.jsonl"));
    try {
        set.model_index("gpt-5");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::not_found);
        EXPECT_THAT(e.what(), HasSubstr("unknown model 'gpt-5'"));
        EXPECT_THAT(e.what(), HasSubstr("gpt-4o-mini, qwen2.5-32b-coder-instruct, qwen2.5-72b-instruct, gpt-4o"));
    }
}

TEST(OutcomeReader, ReadsEveryRecordedConfidenceSignal) {
    test::TempDir dir;
    const auto path = write(dir, "signals.jsonl",
                            R"({"prompt": "p", "models": {"a": {"correct": true, "confidence": -0.2, )"
                            R"("signals": {"mean_logprob": -0.2, "min_logprob": -1.5, "top2_margin": -Infinity}}}})"
                            "\n");
    const OutcomeSet set = read_outcomes(path);
    const auto& signals = set.records[0].models[0].signals;
    ASSERT_EQ(signals.size(), 3u);
    EXPECT_DOUBLE_EQ(signals.at("min_logprob"), -1.5);
    EXPECT_TRUE(std::isinf(signals.at("top2_margin")));
    EXPECT_DOUBLE_EQ(*set.records[0].models[0].confidence, -0.2);

    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "signals": [1]}}})"),
                HasSubstr("models.a.signals must be an object {SIGNAL: number} (got an array)"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "signals": {"x": "high"}}}})"),
                HasSubstr("models.a.signals.x must be a number (got a string)"));
}

TEST(OutcomeReader, ConfidenceAboveZeroAndNegativeCostNameLineModelAndField) {
    const std::string high = R"({"prompt": "p", "models": {"llama3.1-8b": {"correct": true, "confidence": 0.5}}})";
    EXPECT_THAT(read_error(good + "\n" + good + "\n" + high + "\n"),
                HasSubstr("bad.jsonl line 3: models.llama3.1-8b.confidence is 0.5, but confidences are log-probabilities (at most 0)"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "confidence": Infinity}}})"),
                HasSubstr("line 1: models.a.confidence is inf, but confidences are log-probabilities (at most 0)"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "cost_usd": -1}}})"),
                HasSubstr("bad.jsonl line 1: models.a.cost_usd is -1, but a cost cannot be negative"));
    EXPECT_THAT(read_error(R"({"prompt": "p", "models": {"a": {"correct": true, "cost_usd": NaN}}})"),
                HasSubstr("line 1: models.a.cost_usd is NaN"));

    // 0 (certain), -inf (impossible), a rounding hair above 0 and a zero cost stay valid; signals such
    // as entropies may be positive and are left as recorded.
    test::TempDir dir;
    const OutcomeSet set = read_outcomes(write(dir, "ok.jsonl",
                                               R"({"prompt": "p", "models": {"a": {"correct": true, "confidence": 0, "cost_usd": 0}, )"
                                               R"("b": {"correct": false, "confidence": -Infinity, "signals": {"entropy": 2.5}}, )"
                                               R"("c": {"correct": true, "confidence": 1e-12}}})"));
    EXPECT_EQ(*set.records[0].models[0].confidence, 0.0);
    EXPECT_EQ(*set.records[0].models[0].cost_usd, 0.0);
    EXPECT_TRUE(std::isinf(*set.records[0].models[1].confidence));
    EXPECT_DOUBLE_EQ(set.records[0].models[1].signals.at("entropy"), 2.5);
    EXPECT_EQ(*set.records[0].models[2].confidence, 1e-12);  // rounding in the writer, not a probability
}

TEST(OutcomeReader, SkipsAUtf8ByteOrderMark) {
    test::TempDir dir;
    const OutcomeSet set = read_outcomes(write(dir, "bom.jsonl", "\xEF\xBB\xBF" + good + "\n" + good + "\n"));
    ASSERT_EQ(set.records.size(), 2u);
    EXPECT_EQ(set.records[0].id, "q1");
    EXPECT_EQ(set.models, (std::vector<std::string>{"a", "b"}));
    // Only at the start of the file: elsewhere it is still an error, naming its line.
    EXPECT_THAT(read_error(good + "\n\xEF\xBB\xBF" + good + "\n"), HasSubstr("line 2: "));
}

}  // namespace
}  // namespace hiro::core
