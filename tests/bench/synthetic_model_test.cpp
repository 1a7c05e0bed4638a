// bench/synthetic_gguf.py as the benchmarks use it, on its tiny shape: seeded
// and deterministic, quantized by llama-quantize, loaded and run by the engine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/engine.h"
#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

CommandResult write_tiny(const TempDir& dir, const std::string& name, int seed = 2503) {
    return run_command(std::string(HIRO_PYTHON) + " " + HIRO_SOURCE_DIR + "/bench/synthetic_gguf.py --shape tiny --quant Q8_0,Q4_0 --seed " +
                       std::to_string(seed) + " --out " + dir.file(name) + " --gguf-py " + HIRO_GGUF_PY + " --llama-quantize " +
                       HIRO_LLAMA_QUANTIZE + " --threads 1");
}

TEST(SyntheticModel, SameSeedSameBytesOtherSeedOtherWeights) {
    TempDir dir;
    ASSERT_EQ(write_tiny(dir, "a").exit_code, 0) << write_tiny(dir, "a").out;
    ASSERT_EQ(write_tiny(dir, "b").exit_code, 0);
    ASSERT_EQ(write_tiny(dir, "c", 7).exit_code, 0);
    for (const char* quant : {"F16", "Q8_0", "Q4_0"}) {
        const std::string file = std::string("synthetic-tiny-") + quant + ".gguf";
        const std::string a = read_text(dir.file("a/" + file));
        EXPECT_GT(a.size(), 50'000u) << file;
        EXPECT_EQ(a, read_text(dir.file("b/" + file))) << file;
        EXPECT_NE(a, read_text(dir.file("c/" + file))) << file;
    }
    // Quantization shrinks the file as its bits per weight say.
    EXPECT_LT(std::filesystem::file_size(dir.file("a/synthetic-tiny-Q4_0.gguf")), std::filesystem::file_size(dir.file("a/synthetic-tiny-Q8_0.gguf")));
    EXPECT_LT(std::filesystem::file_size(dir.file("a/synthetic-tiny-Q8_0.gguf")), std::filesystem::file_size(dir.file("a/synthetic-tiny-F16.gguf")));
}

TEST(SyntheticModel, LoadsTokenizesAndGeneratesInTheEngine) {
    TempDir dir;
    ASSERT_EQ(write_tiny(dir, "m").exit_code, 0);
    for (const char* quant : {"F16", "Q8_0", "Q4_0"}) {
        engine::Engine e(engine::ModelOptions{.path = dir.file(std::string("m/synthetic-tiny-") + quant + ".gguf"), .threads = 1});
        const engine::Model& model = e.model();
        EXPECT_EQ(model.vocab_size(), 512);
        EXPECT_EQ(llama_model_n_layer(model.get()), 2);
        EXPECT_THAT(model.description(), HasSubstr(quant));
        // The synthetic vocabulary covers any text: byte fallback under letters and letter pairs.
        const std::string text = "Once upon a time, 42 cats!";
        const auto tokens = model.tokenize(text, true);
        std::string back;
        for (const auto t : tokens) back += model.piece(t);
        EXPECT_EQ(back, " " + text) << quant;  // SentencePiece marks the start of the text as a word boundary
        engine::GenerationRequest request;
        request.prompt = tokens;
        request.params.max_tokens = 12;
        request.ignore_end_of_generation = true;
        const engine::Generation g = e.generate(request, nullptr, {});
        ASSERT_EQ(g.answer.tokens.size(), 12u) << quant;
        for (const auto& t : g.answer.tokens) EXPECT_TRUE(std::isfinite(t.logprob) && t.logprob <= 0.0) << quant;  // activations stayed finite
    }
}

}  // namespace
}  // namespace hiro::test
