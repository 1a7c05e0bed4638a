// The in-process engine on a real model (stories260K), against llama-server
// from the same llama.cpp build.
#include "engine/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>


#include "child_process.h"
#include "core/error.h"
#include "run_command.h"
#include "gguf_rewrite.h"
#include "test_paths.h"

namespace hiro::engine {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

const std::string stories = test::shared_model("stories260K.gguf");
const std::string fixed_prompt = "Once upon a time, there was a little girl named Lily.";

Engine& shared_engine() {
    static Engine engine(ModelOptions{.path = stories, .threads = 1});
    return engine;
}

Generation run(Engine& engine, const std::string& prompt, core::GenerationParams params, std::stop_token stop = {}) {
    return engine.generate({engine.model().tokenize(prompt, true), params, false}, nullptr, stop);
}

core::GenerationParams greedy(int max_tokens, int top_logprobs = 0) {
    core::GenerationParams p;
    p.max_tokens = max_tokens;
    p.top_logprobs = top_logprobs;
    return p;
}

core::Error error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const core::Error& e) {
        return e;
    }
    return core::Error(core::ErrorCode::internal, "no error");
}

TEST(Engine, GreedyTokensAndLogprobsEqualLlamaServers) {
    const int port = test::free_port();
    test::ChildProcess server({HIRO_LLAMA_SERVER, "-m", stories, "--host", "127.0.0.1", "--port", std::to_string(port), "-np", "1", "-t", "1"});
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    ASSERT_TRUE(server.wait_until_ok(base + "/health")) << server.log();

    const nlohmann::json request = {{"prompt", fixed_prompt}, {"n_predict", 40}, {"n_probs", 3}, {"temperature", 0}};
    const auto reply = test::run_command("curl -s " + base + "/completion -d '" + request.dump() + "'");
    ASSERT_EQ(reply.exit_code, 0) << reply.out << server.log();
    const auto expected = nlohmann::json::parse(reply.out)["completion_probabilities"];

    const Generation g = run(shared_engine(), fixed_prompt, greedy(40, 3));
    ASSERT_EQ(g.answer.tokens.size(), expected.size()) << reply.out;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& want = expected[i];
        const auto& got = g.answer.tokens[i];
        ASSERT_EQ(got.id, want["id"].get<int>()) << "token " << i;
        EXPECT_EQ(got.text, want["token"].get<std::string>()) << "token " << i;
        EXPECT_NEAR(got.logprob, want["logprob"].get<double>(), 1e-3) << "token " << i;
        ASSERT_EQ(got.top.size(), want["top_logprobs"].size());
        for (std::size_t k = 0; k < got.top.size(); ++k) {
            EXPECT_EQ(got.top[k].id, want["top_logprobs"][k]["id"].get<int>()) << "token " << i << " alternative " << k;
            EXPECT_NEAR(got.top[k].logprob, want["top_logprobs"][k]["logprob"].get<double>(), 1e-3);
        }
    }
    EXPECT_EQ(g.answer.usage.completion_tokens, 40);
    EXPECT_EQ(g.answer.finish_reason, "length");
}

// The warm-up token must not linger in the context the first request gets.
TEST(Engine, WarmUpLeavesNoTraceInTheFirstAnswer) {
    Engine warmed(ModelOptions{.path = stories, .threads = 1});
    warmed.warm_up();
    const Generation a = run(warmed, fixed_prompt, greedy(12));
    Engine fresh(ModelOptions{.path = stories, .threads = 1});  // not shared: another test's cached prompt would change the numerics
    const Generation b = run(fresh, fixed_prompt, greedy(12));
    EXPECT_EQ(a.answer.text, b.answer.text);
    ASSERT_EQ(a.answer.tokens.size(), b.answer.tokens.size());
    for (std::size_t i = 0; i < a.answer.tokens.size(); ++i) EXPECT_NEAR(a.answer.tokens[i].logprob, b.answer.tokens[i].logprob, 1e-5);
}

TEST(Engine, MissingModelFileIsNotFound) {
    const auto e = error_of([] { Engine engine(ModelOptions{.path = "/nonexistent/model.gguf"}); });
    EXPECT_EQ(e.code(), core::ErrorCode::not_found);
    EXPECT_THAT(e.what(), HasSubstr("model file /nonexistent/model.gguf does not exist"));
}

TEST(Engine, FileThatIsNotGgufIsRejected) {
    test::TempDir dir;
    const auto path = dir.file("model.gguf");
    std::ofstream(path) << "this is a text file, not a model\n";
    const auto e = error_of([&] { Engine engine(ModelOptions{.path = path}); });
    EXPECT_EQ(e.code(), core::ErrorCode::invalid_input);
    EXPECT_THAT(e.what(), HasSubstr("is not a GGUF model"));
}

TEST(Engine, PromptLongerThanTheContextIsRejected) {
    std::string long_prompt;
    for (int i = 0; i < 100; ++i) long_prompt += "the cat sat on the mat. ";
    const auto e = error_of([&] { run(shared_engine(), long_prompt, {}); });
    EXPECT_EQ(e.code(), core::ErrorCode::invalid_input);
    EXPECT_THAT(e.what(), HasSubstr("but the context holds 128"));
    EXPECT_THAT(e.what(), HasSubstr("shorten the prompt"));
}

TEST(Engine, GenerationStopsWhenTheContextIsFull) {
    const Generation g = run(shared_engine(), fixed_prompt, greedy(1000));
    // The last token needs no KV slot, so at most n_ctx + 1 tokens in all.
    EXPECT_THAT(g.answer.finish_reason, AnyOf("length", "stop"));
    EXPECT_LE(g.answer.usage.prompt_tokens + g.answer.usage.completion_tokens, 129);
}

TEST(Engine, StopRequestedFromAnotherThreadCancels) {
    std::stop_source source;
    std::promise<void> first_token;
    std::promise<void> stop_sent;
    std::future<Generation> result = std::async(std::launch::async, [&] {
        Engine& engine = shared_engine();
        bool told = false;
        return engine.generate({engine.model().tokenize(fixed_prompt, true), greedy(60), false},
                               [&](const core::TokenLogprob&) {
                                   if (!told) {
                                       told = true;
                                       first_token.set_value();
                                       stop_sent.get_future().wait();
                                   }
                                   return true;
                               },
                               source.get_token());
    });
    first_token.get_future().wait();
    source.request_stop();
    stop_sent.set_value();
    const Generation g = result.get();
    EXPECT_EQ(g.answer.finish_reason, "cancelled");
    EXPECT_EQ(g.answer.tokens.size(), 1u);

    std::stop_source already;
    already.request_stop();
    const Generation none = run(shared_engine(), fixed_prompt, {}, already.get_token());
    EXPECT_EQ(none.answer.finish_reason, "cancelled");
    EXPECT_TRUE(none.answer.tokens.empty());
}

TEST(Engine, ConcurrentRequestsShareTheModelAndAgreeWithSequentialOnes) {
    const Generation alone = run(shared_engine(), fixed_prompt, greedy(30));
    std::vector<std::future<Generation>> running;
    for (int i = 0; i < 4; ++i) {
        running.push_back(std::async(std::launch::async, [] { return run(shared_engine(), fixed_prompt, greedy(30)); }));
    }
    for (auto& r : running) EXPECT_EQ(r.get().answer.text, alone.answer.text);
}

TEST(Engine, MoreRequestsThanSequencesWaitTheirTurnAndAgree) {
    Engine two(ModelOptions{.path = stories, .threads = 1, .sequences = 2});
    const Generation alone = run(two, fixed_prompt, greedy(20));
    std::vector<std::future<Generation>> running;
    for (int i = 0; i < 5; ++i) running.push_back(std::async(std::launch::async, [&] { return run(two, fixed_prompt, greedy(20)); }));
    for (auto& r : running) {
        const Generation g = r.get();
        EXPECT_EQ(g.answer.text, alone.answer.text);
        EXPECT_EQ(g.answer.finish_reason, "length");
    }
}

TEST(Engine, CancellingOneRequestLeavesTheOthersInItsBatchWhole) {
    Engine engine(ModelOptions{.path = stories, .threads = 1, .sequences = 2});
    const Generation alone = run(engine, fixed_prompt, greedy(40));
    std::stop_source cancel;
    std::future<Generation> cancelled = std::async(std::launch::async, [&] {
        return engine.generate({engine.model().tokenize(fixed_prompt, true), greedy(40), false},
                               [&](const core::TokenLogprob&) {
                                   cancel.request_stop();  // after its first token, mid-batch
                                   return true;
                               },
                               cancel.get_token());
    });
    const Generation whole = run(engine, fixed_prompt, greedy(40));
    EXPECT_EQ(cancelled.get().answer.finish_reason, "cancelled");
    EXPECT_EQ(whole.answer.text, alone.answer.text);
    EXPECT_EQ(run(engine, fixed_prompt, greedy(40)).answer.text, alone.answer.text);  // its sequence is free and clean again
}

// A client that stops reading holds up its own request only: the others in
// its batch go on without it after a short grace.
TEST(Engine, ARequestWhoseClientStallsDoesNotStallTheOthers) {
    Engine engine(ModelOptions{.path = stories, .threads = 1, .sequences = 2});
    const Generation alone = run(engine, fixed_prompt, greedy(40));
    std::promise<void> others_done;
    std::future<void> done = others_done.get_future();
    std::future<Generation> stalled = std::async(std::launch::async, [&] {
        return engine.generate({engine.model().tokenize(fixed_prompt, true), greedy(10), false},
                               [&](const core::TokenLogprob&) {
                                   // Until the other request has all its tokens (or a minute: then it waited for this one).
                                   return done.wait_for(std::chrono::minutes(1)) == std::future_status::ready;
                               },
                               {});
    });
    const Generation other = run(engine, fixed_prompt, greedy(40));
    others_done.set_value();
    EXPECT_EQ(other.answer.text, alone.answer.text);
    EXPECT_EQ(stalled.get().answer.finish_reason, "length") << "the stalled client's request itself goes on once it reads again";
}

TEST(Engine, ASharedPromptPrefixIsDecodedOnceAndAnswersTheSame) {
    Engine engine(ModelOptions{.path = stories, .threads = 1, .sequences = 2});
    const std::string system = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
    GenerationRequest first{engine.model().tokenize(system + " One day", true), greedy(10), false};
    const Generation cold = engine.generate(first, nullptr, {});
    EXPECT_EQ(cold.prompt_tokens_reused, 0);

    GenerationRequest other{engine.model().tokenize(system + " The sun", true), greedy(10), false};
    const Generation warm = engine.generate(other, nullptr, {});
    const int shared = static_cast<int>(engine.model().tokenize(system, true).size());
    EXPECT_GE(warm.prompt_tokens_reused, shared - 1);
    EXPECT_LT(warm.prompt_tokens_reused, static_cast<int>(other.prompt.size()));  // its own words are decoded
    // Back to the first prompt: the shared part again from the cache, the answer unchanged.
    const Generation back = engine.generate(first, nullptr, {});
    EXPECT_GE(back.prompt_tokens_reused, shared - 1);
    EXPECT_EQ(back.answer.text, cold.answer.text);
    // The same prompt twice in a row: all but its last token come from the cache.
    const Generation again = engine.generate(first, nullptr, {});
    EXPECT_EQ(again.prompt_tokens_reused, static_cast<int>(first.prompt.size()) - 1);
    EXPECT_EQ(again.answer.text, cold.answer.text);

    first.cache_prompt = false;  // a benchmark decodes its whole prompt every time
    EXPECT_EQ(engine.generate(first, nullptr, {}).prompt_tokens_reused, 0);
    EXPECT_EQ(engine.generate(first, nullptr, {}).prompt_tokens_reused, 0);
}

TEST(Engine, SamplingIsSeededAndStopStringsEndTheAnswer) {
    core::GenerationParams sampled = greedy(30);
    sampled.temperature = 0.9;
    sampled.top_p = 0.9;
    sampled.seed = 7;
    EXPECT_EQ(run(shared_engine(), fixed_prompt, sampled).answer.text, run(shared_engine(), fixed_prompt, sampled).answer.text);

    const Generation full = run(shared_engine(), fixed_prompt, greedy(40));
    ASSERT_NE(full.answer.text.find('.'), std::string::npos) << full.answer.text;
    core::GenerationParams until_period = greedy(40);
    until_period.stop = {"."};
    const Generation stopped = run(shared_engine(), fixed_prompt, until_period);
    EXPECT_EQ(stopped.answer.finish_reason, "stop");
    EXPECT_EQ(stopped.answer.text, full.answer.text.substr(0, full.answer.text.find('.')));
}

TEST(Engine, StreamedTokensNeverIncludeTheStopString) {
    const Generation full = run(shared_engine(), fixed_prompt, greedy(20));
    core::GenerationParams until = greedy(20);
    until.stop = {full.answer.tokens[5].text + full.answer.tokens[6].text};
    Engine& engine = shared_engine();
    std::string streamed;
    const Generation g = engine.generate({engine.model().tokenize(fixed_prompt, true), until, false},
                                         [&](const core::TokenLogprob& t) {
                                             streamed += t.text;
                                             return true;
                                         },
                                         {});
    ASSERT_EQ(g.answer.finish_reason, "stop");
    EXPECT_EQ(streamed, g.answer.text);  // the held-back first half of the stop string is never sent
    EXPECT_EQ(g.answer.text, full.answer.text.substr(0, full.answer.text.find(until.stop[0])));

    std::string all;
    engine.generate({engine.model().tokenize(fixed_prompt, true), greedy(20), false}, [&](const core::TokenLogprob& t) {
        all += t.text;
        return true;
    }, {});
    EXPECT_EQ(all, full.answer.text);  // without stop strings every token streams
}

TEST(Engine, TimingsAreReported) {
    const Generation g = run(shared_engine(), fixed_prompt, greedy(10));
    ASSERT_EQ(g.token_ms.size(), 10u);
    EXPECT_GT(g.prompt_ms, 0.0);
    EXPECT_DOUBLE_EQ(g.answer.ttft_ms, g.token_ms.front());
    EXPECT_GE(g.answer.latency_ms, g.token_ms.back());
}

TEST(Engine, EmbeddingsAreDeterministicAndTellTextsApart) {
    const auto a = shared_engine().embed("a cat");
    const auto b = shared_engine().embed("the big red truck drove away");
    ASSERT_EQ(a.size(), 64u);  // stories260K's hidden size
    EXPECT_EQ(a, shared_engine().embed("a cat"));
    EXPECT_NE(a, b);
    for (float x : a) EXPECT_TRUE(std::isfinite(x));
    // Longer than the 128-token context: embedded by its first tokens.
    std::string long_text;
    for (int i = 0; i < 100; ++i) long_text += "the cat sat on the mat. ";
    EXPECT_EQ(shared_engine().embed(long_text).size(), 64u);
}

// The pooled embedding is llama-server's (--embedding --pooling mean) up to
// its normalisation.
TEST(Engine, EmbeddingsEqualLlamaServers) {
    const int port = test::free_port();
    test::ChildProcess server({HIRO_LLAMA_SERVER, "-m", stories, "--host", "127.0.0.1", "--port", std::to_string(port), "-np", "1", "-t",
                               "1", "--embedding", "--pooling", "mean"});
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    ASSERT_TRUE(server.wait_until_ok(base + "/health")) << server.log();
    for (const std::string text : {"a cat", "Once upon a time, there was a little girl named Lily."}) {
        const auto reply = test::run_command("curl -s " + base + "/v1/embeddings -d '" + nlohmann::json{{"input", text}}.dump() + "'");
        ASSERT_EQ(reply.exit_code, 0) << reply.out << server.log();
        const auto expected = nlohmann::json::parse(reply.out)["data"][0]["embedding"].get<std::vector<double>>();
        const auto got = shared_engine().embed(text);
        ASSERT_EQ(got.size(), expected.size());
        double norm = 0, cosine = 0, expected_norm = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
            norm += static_cast<double>(got[i]) * got[i];
            expected_norm += expected[i] * expected[i];
            cosine += got[i] * expected[i];
        }
        EXPECT_NEAR(cosine / std::sqrt(norm * expected_norm), 1.0, 1e-4) << text;
    }
}

TEST(Engine, ChatMessagesUseTheModelsTemplateOrChatMl) {
    // stories260K carries no chat template, so llama.cpp's ChatML applies.
    const std::string text = shared_engine().model().format_chat({{"system", "Be brief."}, {"user", "Hi"}});
    EXPECT_THAT(text, HasSubstr("<|im_start|>system\nBe brief.<|im_end|>"));
    EXPECT_THAT(text, HasSubstr("<|im_start|>assistant\n"));
}

// stories260K with `template` as its tokenizer.chat_template.
std::string with_chat_template(const test::TempDir& dir, const std::string& chat_template) {
    return test::rewrite_gguf(stories, dir.file("templated.gguf"), {{"tokenizer.chat_template", chat_template}});
}

// A template none of llama.cpp's built-in formats matches renders through the
// Jinja engine, to the byte what llama-server --jinja renders.
TEST(Engine, ChatTemplatesRenderLikeLlamaServer) {
    test::TempDir dir;
    const std::string model = with_chat_template(
        dir, "{% for m in messages %}{{ '### ' + (m['role'] | upper) + ':\\n' + (m['content'] | trim) + '\\n' }}{% endfor %}"
             "{% if add_generation_prompt %}{{ '### ASSISTANT:\\n' }}{% endif %}");
    Engine engine(ModelOptions{.path = model, .threads = 1});
    const std::vector<core::ChatMessage> chat{{"system", "Be brief."}, {"user", "  Tell me a story.  "}};
    const std::string text = engine.model().format_chat(chat);
    EXPECT_EQ(text, "### SYSTEM:\nBe brief.\n### USER:\nTell me a story.\n### ASSISTANT:\n");

    const int port = test::free_port();
    test::ChildProcess server({HIRO_LLAMA_SERVER, "-m", model, "--host", "127.0.0.1", "--port", std::to_string(port), "-np", "1", "-t", "1", "--jinja"});
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    ASSERT_TRUE(server.wait_until_ok(base + "/health")) << server.log();
    const nlohmann::json request = {{"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "  Tell me a story.  "}}}}};
    const auto reply = test::run_command("curl -s " + base + "/apply-template -d '" + request.dump() + "'");
    ASSERT_EQ(reply.exit_code, 0) << reply.out;
    EXPECT_EQ(nlohmann::json::parse(reply.out)["prompt"].get<std::string>(), text) << reply.out;

    // Generating from it works end to end.
    EXPECT_FALSE(engine.generate({engine.model().chat_tokens(chat), greedy(4), false}, nullptr, {}).answer.tokens.empty());
}

TEST(Engine, ChatTemplateThatDoesNotParseIsAClearError) {
    test::TempDir dir;
    Engine engine(ModelOptions{.path = with_chat_template(dir, "{% for m in messages %}{{ m.content }"), .threads = 1});
    const auto e = error_of([&] { engine.model().format_chat({{"user", "Hi"}}); });
    EXPECT_EQ(e.code(), core::ErrorCode::unsupported);
    EXPECT_THAT(e.what(), HasSubstr("templated.gguf"));
    // Raw prompts still work.
    EXPECT_FALSE(run(engine, fixed_prompt, greedy(2)).answer.tokens.empty());
}

}  // namespace
}  // namespace hiro::engine
