#include "backends/local_tier.h"

#include <gtest/gtest.h>

#include "test_paths.h"

namespace hiro::backends {
namespace {

TEST(LocalTier, AnswersAQueryWithStreamedTokensCostAndEnergy) {
    auto engine = std::make_shared<engine::Engine>(engine::ModelOptions{.path = test::shared_model("stories260K.gguf"), .threads = 1});
    LocalTier tier(engine, {.name = "edge", .price = core::TokenPrice{1.0, 2.0}, .joules_per_token = 0.5});
    EXPECT_EQ(tier.name(), "edge");

    core::Query query;
    query.prompt = "Once upon a time";
    query.params.max_tokens = 12;
    query.params.top_logprobs = 2;
    std::string streamed;
    const core::Answer a = tier.generate(query, [&](const core::TokenLogprob& t) {
        streamed += t.text;
        return true;
    }, {});
    EXPECT_EQ(a.text, streamed);
    ASSERT_EQ(a.tokens.size(), 12u);
    EXPECT_EQ(a.tokens[0].top.size(), 2u);
    EXPECT_EQ(a.tokens[0].top[0].id, a.tokens[0].id);  // greedy picks the most likely token
    EXPECT_EQ(a.usage.completion_tokens, 12);
    EXPECT_DOUBLE_EQ(a.cost_usd, (a.usage.prompt_tokens * 1.0 + 12 * 2.0) / 1e6);
    EXPECT_DOUBLE_EQ(a.energy_j, 0.5 * static_cast<double>(a.usage.prompt_tokens + 12));
    EXPECT_GT(a.latency_ms, 0.0);

    // A chat query goes through the chat template and still answers.
    query.messages = {{"user", "Tell me a story"}};
    EXPECT_FALSE(tier.generate(query, nullptr, {}).tokens.empty());

    // A sink that declines more tokens ends the answer as cancelled.
    const core::Answer declined = tier.generate(query, [](const core::TokenLogprob&) { return false; }, {});
    EXPECT_EQ(declined.finish_reason, "cancelled");
    EXPECT_EQ(declined.tokens.size(), 1u);
}

}  // namespace
}  // namespace hiro::backends
