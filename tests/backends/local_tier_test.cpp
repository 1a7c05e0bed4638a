#include "backends/local_tier.h"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>

#include "backends/tier_failure.h"
#include "test_paths.h"

namespace hiro::backends {
namespace {

// Keeps what a tier streams.
struct Collect final : ChunkSink {
    std::string text;
    std::vector<core::Json> chunks;
    int limit = -1;  // throw as a client that goes away would, at this chunk
    Task<void> accept(AnswerChunk& c) override {
        if (static_cast<int>(chunks.size()) == limit) throw boost::system::system_error(boost::asio::error::operation_aborted);
        text += c.delta.text;
        chunks.push_back(core::Json::parse(c.json));
        co_return;
    }
    bool committed() const override { return !chunks.empty(); }
};

std::shared_ptr<engine::Engine> stories() {
    static auto engine = std::make_shared<engine::Engine>(engine::ModelOptions{.path = test::shared_model("stories260K.gguf"), .threads = 1});
    return engine;
}

TEST(LocalTier, StreamsChunksAndPricesTheAnswer) {
    LocalTier tier(stories(), {.name = "edge", .price = core::TokenPrice{1.0, 2.0}, .joules_per_token = 0.5});
    EXPECT_EQ(tier.name(), "edge");
    EXPECT_GE(tier.capacity(), 1);

    const core::Query query = core::prompt_query("q", "Once upon a time", {{"max_tokens", 12}, {"temperature", 0}, {"logprobs", 2}});
    Collect sink;
    AskOptions streamed;
    streamed.stream = &sink;
    const core::Answer a = run_blocking(tier.generate(query, streamed));
    const auto& chunks = sink.chunks;
    EXPECT_EQ(a.text, sink.text);
    ASSERT_EQ(a.tokens.size(), 12u);
    EXPECT_EQ(a.tokens[0].top.size(), 2u);
    EXPECT_EQ(a.tokens[0].top[0].id, a.tokens[0].id);  // greedy picks the most likely token
    EXPECT_EQ(a.usage.completion_tokens, 12);
    EXPECT_DOUBLE_EQ(a.cost_usd, (a.usage.prompt_tokens * 1.0 + 12 * 2.0) / 1e6);
    EXPECT_DOUBLE_EQ(a.energy_j, 0.5 * static_cast<double>(a.usage.prompt_tokens + 12));
    EXPECT_GT(a.latency_ms, 0.0);
    EXPECT_TRUE(a.response.empty());  // streamed: no body
    ASSERT_GE(chunks.size(), 3u);
    EXPECT_EQ(chunks[chunks.size() - 2]["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(chunks.back()["usage"]["completion_tokens"], 12);

    // Not streamed: one OpenAI body, the same greedy text.
    const core::Answer whole = run_blocking(tier.generate(query, {}));
    EXPECT_EQ(whole.text, a.text);
    const core::Json body = core::Json::parse(whole.response);
    EXPECT_EQ(body["choices"][0]["text"], a.text);
    EXPECT_EQ(body["usage"]["completion_tokens"], 12);

    // A chat query goes through the chat template and still answers.
    const core::Query chat = core::chat_query("c", {{"user", "Tell me a story"}}, {{"max_tokens", 8}});
    EXPECT_FALSE(run_blocking(tier.generate(chat, {})).text.empty());
}

TEST(LocalTier, RefusesWhatItCannotHonourNamingTheField) {
    LocalTier tier(stories(), LocalTierOptions{.name = "edge", .price = std::nullopt});
    const core::Query query = core::chat_query("c", {{"user", "hi"}}, {{"frobnicate", true}});
    try {
        run_blocking(tier.generate(query, {}));
        FAIL() << "an unknown field was ignored";
    } catch (const TierFailure& f) {
        EXPECT_EQ(f.kind(), FailureKind::client_error);
        EXPECT_EQ(f.status(), 400);
        EXPECT_NE(std::string(f.what()).find("'frobnicate'"), std::string::npos) << f.what();
    }
}

TEST(LocalTier, ACallerThatGoesAwayFreesItsSlot) {
    LocalTier tier(stories(), LocalTierOptions{.name = "edge", .price = std::nullopt, .slots = 1});
    const core::Query query = core::prompt_query("q", "Once upon a time", {{"temperature", 0}});  // no max_tokens: the whole context
    Collect gone;
    gone.limit = 3;
    AskOptions streamed;
    streamed.stream = &gone;
    EXPECT_THROW(run_blocking(tier.generate(query, streamed)), boost::system::system_error);
    // The one slot is free again: the next request is answered.
    const core::Query next = core::prompt_query("q", "Once upon a time", {{"max_tokens", 4}});
    EXPECT_EQ(run_blocking(tier.generate(next, {})).usage.completion_tokens, 4);
}

}  // namespace
}  // namespace hiro::backends
