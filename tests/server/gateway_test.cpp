// hiro serve end to end: real llama-server upstreams, a real hiro process, curl as the client.
#include <gmock/gmock.h>

#include <csignal>
#include <thread>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// The content a stream carried, and its last non-[DONE] event.
struct StreamResult {
    std::string content;
    json last;
    bool done = false;
    int events = 0;
};

StreamResult read_stream(StreamReader& reader) {
    StreamResult r;
    std::string data;
    while (reader.next(data)) {
        if (data == "[DONE]") {
            r.done = true;
            continue;
        }
        ++r.events;
        r.last = json::parse(data);
        if (r.last.contains("choices") && !r.last["choices"].empty()) {
            const auto& c = r.last["choices"][0];
            if (c.contains("delta") && c["delta"].value("content", json()).is_string()) r.content += c["delta"]["content"].get<std::string>();
            if (c.value("text", json()).is_string()) r.content += c["text"].get<std::string>();
        }
    }
    return r;
}

TEST_F(GatewayTest, CascadeEscalatesExactlyWhenConfidenceIsBelowItsThreshold) {
    // The edge tier's confidence on this prompt, straight from llama-server's logprobs.
    const auto direct = request("-X POST " + llama_url() + "/chat/completions -d '" +
                                json{{"model", "x"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}}, {"max_tokens", 8},
                                     {"logprobs", true}, {"temperature", 0}}.dump() + "'");
    ASSERT_EQ(direct.status, 200) << direct.body;
    double sum = 0;
    const json body = direct.json();
    const json& tokens = body["choices"][0]["logprobs"]["content"];
    ASSERT_FALSE(tokens.empty()) << direct.body;
    for (const auto& t : tokens) sum += t["logprob"].get<double>();
    const double confidence = sum / static_cast<double>(tokens.size());

    start_hiro("tiers:\n" + llama_tier("edge") + llama_tier("cloud") +
               "policies:\n"
               "  - {name: lenient, kind: cascade, tiers: [edge, cloud], thresholds: [" + std::to_string(confidence - 1e-3) + "]}\n"
               "  - {name: strict, kind: cascade, tiers: [edge, cloud], thresholds: [" + std::to_string(confidence + 1e-3) + "]}\n");

    const Reply kept = post("/v1/chat/completions", chat("lenient", 8));
    ASSERT_EQ(kept.status, 200) << kept.body;
    EXPECT_EQ(kept.header("x-hiro-tier"), "edge");
    const json k = kept.json()["hiro"];
    EXPECT_EQ(k["answered_by"], "edge");
    EXPECT_EQ(k["stopped"], "confident");
    ASSERT_EQ(k["tiers"].size(), 1u);
    EXPECT_EQ(k["tiers"][0]["outcome"], "accepted");
    EXPECT_NEAR(k["tiers"][0]["confidence"].get<double>(), confidence, 1e-6);

    const Reply escalated = post("/v1/chat/completions", chat("strict", 8));
    ASSERT_EQ(escalated.status, 200) << escalated.body;
    EXPECT_EQ(escalated.header("x-hiro-tier"), "cloud");
    const json e = escalated.json()["hiro"];
    EXPECT_EQ(e["answered_by"], "cloud");
    EXPECT_EQ(e["stopped"], "last_tier");
    ASSERT_EQ(e["tiers"].size(), 2u);
    EXPECT_EQ(e["tiers"][0]["outcome"], "rejected");
    EXPECT_NEAR(e["tiers"][0]["confidence"].get<double>(), confidence, 1e-6);
    EXPECT_NEAR(e["tiers"][0]["threshold"].get<double>(), confidence + 1e-3, 1e-6);
    EXPECT_EQ(e["tiers"][1]["outcome"], "accepted");
    // A cascade pays every tier it asked.
    EXPECT_NEAR(e["cost_usd"].get<double>(), e["tiers"][0]["cost_usd"].get<double>() + e["tiers"][1]["cost_usd"].get<double>(), 1e-12);
    EXPECT_GT(e["tiers"][0]["cost_usd"].get<double>(), 0.0);

    // Streaming the same cascade: one stream that ends in [DONE], with the same greedy text.
    StreamReader reader("-X POST " + url("/v1/chat/completions") + " -d '" + chat("strict", 8, true) + "'");
    const StreamResult s = read_stream(reader);
    EXPECT_TRUE(s.done);
    EXPECT_EQ(s.content, escalated.json()["choices"][0]["message"]["content"].get<std::string>());
    EXPECT_EQ(s.last["hiro"]["answered_by"], "cloud");
    EXPECT_EQ(s.last["choices"][0]["finish_reason"], "length");

    const Reply metrics = get("/metrics");
    EXPECT_THAT(metrics.body, HasSubstr("hiro_escalations_total{tier=\"edge\"} 2"));
    EXPECT_THAT(metrics.body, HasSubstr("hiro_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 3"));
}

// A router trained by `hiro router train` routes live chats by their last user
// message: prompts like the ones the edge tier got right stay on it, the
// others go straight to the cloud tier without asking the edge.
TEST_F(GatewayTest, RouterPolicyFileSendsEachPromptToTheTierItPredicts) {
    const auto outcomes = dir_.file("outcomes.jsonl");
    {
        std::ofstream out(outcomes);
        const char* easy[] = {"kittens", "cats", "a kitten", "the cat", "tabby cats"};
        const char* hard[] = {"puppies", "dogs", "a puppy", "the dog", "beagle dogs"};
        for (int i = 0; i < 40; ++i) {
            const bool is_easy = i % 2 == 0;
            const std::string topic = is_easy ? easy[i / 2 % 5] : hard[i / 2 % 5];
            out << json{{"id", std::to_string(i)},
                        {"prompt", "Tell me a story about " + topic + " number " + std::to_string(i)},
                        {"models", {{"edge", {{"correct", is_easy}, {"cost_usd", 1e-6}}}, {"cloud", {{"correct", true}, {"cost_usd", 1e-4}}}}}}
                       .dump()
                << "\n";
        }
    }
    const auto router = dir_.file("router.json");
    const auto trained = run_command(std::string(HIRO_EXECUTABLE) + " router train --data " + outcomes +
                                     " --models edge,cloud --method logistic --features tfidf --folds 2 --lambda 0.3 --out " + router + " 2>&1");
    ASSERT_EQ(trained.exit_code, 0) << trained.out;
    start_hiro("tiers:\n" + llama_tier("edge") + llama_tier("cloud") + "policies:\n  - {name: routed, file: '" + router + "'}\n");

    auto ask = [&](const std::string& content) {
        return post("/v1/chat/completions", json{{"model", "routed"},
                                                 {"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", content}}}},
                                                 {"max_tokens", 4}}
                                                .dump());
    };
    const Reply cats = ask("Tell me a story about cats");
    ASSERT_EQ(cats.status, 200) << cats.body;
    EXPECT_EQ(cats.header("x-hiro-tier"), "edge");
    const Reply dogs = ask("Tell me a story about dogs");
    ASSERT_EQ(dogs.status, 200) << dogs.body;
    EXPECT_EQ(dogs.header("x-hiro-tier"), "cloud");
    EXPECT_EQ(dogs.json()["hiro"]["tiers"].size(), 1u);  // decided before asking: the edge never ran
}

TEST_F(GatewayTest, UpstreamKilledMidStreamContinuesOnTheNextTier) {
    const int drip = start_fake({"drip", "200", "30"});
    start_hiro("tiers:\n  - {name: flaky, kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(drip) + "/v1', fallback: [steady]}\n" +
               llama_tier("steady"));
    StreamReader reader("-X POST " + url("/v1/chat/completions") + " -d '" + chat("flaky", 40, true) + "'");
    std::string data, content;
    int chunks = 0;
    while (chunks < 4 && reader.next(data)) {  // the role chunk, then three tokens
        ++chunks;
        const json delta = json::parse(data)["choices"][0]["delta"];
        if (delta.value("content", json()).is_string()) content += delta["content"].get<std::string>();
    }
    ASSERT_EQ(content, "drip0 drip1 drip2 ");
    fake(0).stop(SIGKILL, std::chrono::seconds(5));
    const StreamResult rest = read_stream(reader);
    EXPECT_TRUE(rest.done);
    ASSERT_FALSE(rest.last.contains("error")) << rest.last.dump();
    EXPECT_THAT(content + rest.content, ::testing::StartsWith("drip0 drip1 drip2 "));
    EXPECT_GT(rest.content.size(), 0u);
    const json& h = rest.last["hiro"];
    EXPECT_EQ(h["stopped"], "fallback");
    EXPECT_EQ(h["answered_by"], "steady");
    EXPECT_EQ(h["tiers"][0]["failure"], "dropped");
    EXPECT_EQ(h["tiers"][1]["outcome"], "streamed");
}

TEST_F(GatewayTest, StreamThatBreaksWithNoTierLeftEndsWithAnErrorEvent) {
    const int drip = start_fake({"drip", "200", "30"});
    start_hiro("tiers:\n  - {name: flaky, kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(drip) + "/v1'}\n");
    StreamReader reader("-X POST " + url("/v1/chat/completions") + " -d '" + chat("flaky", 40, true) + "'");
    std::string data;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.next(data));
    fake(0).stop(SIGKILL, std::chrono::seconds(5));
    const StreamResult rest = read_stream(reader);
    EXPECT_TRUE(rest.done);
    ASSERT_TRUE(rest.last.contains("error")) << rest.last.dump();
    EXPECT_EQ(rest.last["error"]["code"], "stream_broken");
    EXPECT_THAT(rest.last["error"]["message"].get<std::string>(), HasSubstr("no tier was left"));
}

// A tool call cut off mid-stream cannot be continued, and asking again would
// make the call twice: the stream ends with an error, on a fallback tier as
// on another endpoint of the same tier, and nothing else is asked.
TEST_F(GatewayTest, AToolCallCutOffMidStreamEndsTheStreamInsteadOfRepeatingTheCall) {
    const int cut = start_fake({"tool-break"});
    const auto recorded = dir_.file("second.jsonl");
    const int second = start_fake({"record", recorded});
    start_hiro("tiers:\n" + tier_at("caller", cut, ", fallback: [spare]") + tier_at("spare", second) +
               "  - {name: pool, balance: round_robin, endpoints: [{base_url: 'http://127.0.0.1:" + std::to_string(cut) +
               "/v1'}, {base_url: 'http://127.0.0.1:" + std::to_string(second) + "/v1'}]}\n");
    for (const std::string model : {"caller", "pool"}) {
        StreamReader reader("-X POST " + url("/v1/chat/completions") + " -d '" + chat(model, 8, true) + "'");
        const StreamResult result = read_stream(reader);
        EXPECT_TRUE(result.done) << model;
        ASSERT_TRUE(result.last.contains("error")) << model << ": " << result.last.dump();
        EXPECT_EQ(result.last["error"]["code"], "stream_broken") << model;
    }
    EXPECT_TRUE(json_lines(recorded).empty()) << "the call was sent again";
}

TEST_F(GatewayTest, HangingUpstreamTimesOutAndTheCascadeEscalates) {
    const int hang = start_fake({"hang"});
    start_hiro("tiers:\n  - {name: stuck, kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(hang) +
               "/v1', timeout: {first_byte_ms: 300}}\n" + llama_tier("cloud") +
               "policies:\n  - {name: hiro-cascade, kind: cascade, tiers: [stuck, cloud], thresholds: [-100]}\n");
    const Reply escalated = post("/v1/chat/completions", chat("hiro-cascade", 4));
    ASSERT_EQ(escalated.status, 200) << escalated.body;
    const json h = escalated.json()["hiro"];
    EXPECT_EQ(h["answered_by"], "cloud");
    EXPECT_EQ(h["tiers"][0]["outcome"], "failed");
    EXPECT_EQ(h["tiers"][0]["failure"], "timeout");

    const Reply alone = post("/v1/chat/completions", chat("stuck", 4));
    EXPECT_EQ(alone.status, 504) << alone.body;
    EXPECT_EQ(alone.json()["error"]["type"], "upstream_error");
    EXPECT_THAT(alone.json()["error"]["message"].get<std::string>(), HasSubstr("timed out"));
}

TEST_F(GatewayTest, GarbageAndRateLimitedUpstreamsGetClearAnswers) {
    const int garbage = start_fake({"garbage"});
    const int limited = start_fake({"status", "429"});
    const int broken = start_fake({"status", "500"});
    start_hiro("tiers:\n" + tier_at("garbage", garbage) + tier_at("limited", limited) + tier_at("broken", broken, ", retries: 1, fallback: [cloud]") +
               llama_tier("cloud"));
    const Reply g = post("/v1/chat/completions", chat("garbage", 4));
    EXPECT_EQ(g.status, 502) << g.body;
    EXPECT_THAT(g.json()["error"]["message"].get<std::string>(), HasSubstr("a body that is not JSON: this is not an answer"));
    EXPECT_EQ(g.json()["hiro"]["tiers"][0]["failure"], "garbage");

    const Reply l = post("/v1/chat/completions", chat("limited", 4));
    EXPECT_EQ(l.status, 429) << l.body;
    EXPECT_EQ(l.header("retry-after"), "7");
    EXPECT_EQ(l.json()["error"]["type"], "rate_limit_error");

    // A 5xx is retried (retries: 1), then the fallback answers.
    const Reply b = post("/v1/chat/completions", chat("broken", 4));
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(b.json()["hiro"]["answered_by"], "cloud");
    EXPECT_EQ(b.json()["hiro"]["tiers"][0]["failure"], "http_error");
    EXPECT_THAT(get("/metrics").body, HasSubstr("hiro_upstream_errors_total{tier=\"broken\",kind=\"http_error\"} 2"));
}

TEST_F(GatewayTest, BadClientRequestsGetOpenAIErrors) {
    ::setenv("HIRO_TEST_API_KEY", "sk-right-key", 1);
    start_hiro("api_keys:\n  - {name: tests, key_env: HIRO_TEST_API_KEY}\nlimits: {max_body_bytes: 1048576}\ntiers:\n" + llama_tier("cloud"));
    const std::string auth = "-H 'Authorization: Bearer sk-right-key'";
    EXPECT_EQ(post("/v1/chat/completions", chat("cloud", 2), auth).status, 200);

    const Reply wrong_key = post("/v1/chat/completions", chat("cloud", 2), "-H 'Authorization: Bearer sk-wrong'");
    EXPECT_EQ(wrong_key.status, 401);
    EXPECT_EQ(wrong_key.json()["error"]["code"], "invalid_api_key");
    EXPECT_EQ(post("/v1/chat/completions", chat("cloud", 2)).status, 401);
    EXPECT_THAT(hiro_->log(), ::testing::Not(HasSubstr("sk-right-key")));

    const Reply malformed = post("/v1/chat/completions", "{\"model\": \"cloud\", \"messages\": [", auth);
    EXPECT_EQ(malformed.status, 400);
    EXPECT_EQ(malformed.json()["error"]["type"], "invalid_request_error");
    EXPECT_THAT(malformed.json()["error"]["message"].get<std::string>(), HasSubstr("not valid JSON"));

    const Reply no_messages = post("/v1/chat/completions", R"({"model": "cloud"})", auth);
    EXPECT_EQ(no_messages.status, 400);
    EXPECT_THAT(no_messages.json()["error"]["message"].get<std::string>(), HasSubstr("'messages' must be a non-empty array"));

    const Reply unknown = post("/v1/chat/completions", chat("gpt-9", 2), auth);
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.json()["error"]["code"], "model_not_found");
    EXPECT_THAT(unknown.json()["error"]["message"].get<std::string>(), HasSubstr("this gateway serves: cloud"));

    const std::string huge = "{\"model\": \"cloud\", \"prompt\": \"" + std::string(10 << 20, 'a') + "\"}";
    const Reply too_big = post("/v1/completions", huge, auth);
    EXPECT_EQ(too_big.status, 413);
    EXPECT_THAT(too_big.json()["error"]["message"].get<std::string>(), HasSubstr("max_body_bytes"));

    const Reply big_headers = request("-H 'X-Padding: " + std::string(32 << 10, 'h') + "' " + url("/v1/models"));
    EXPECT_EQ(big_headers.status, 431);
    EXPECT_EQ(get("/v1/nothing").status, 404);
    // Still serving after all that.
    EXPECT_EQ(post("/v1/chat/completions", chat("cloud", 2), auth).status, 200);
}

TEST_F(GatewayTest, ClientThatDisconnectsCancelsItsGeneration) {
    const int drip = start_fake({"drip", "400", "20"});
    start_hiro("tiers:\n  - {name: slow, kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(drip) + "/v1'}\n");
    const auto r = run_command("curl -s -N --max-time 0.5 -X POST " + url("/v1/chat/completions") + " -d '" + chat("slow", 400, true) + "'");
    EXPECT_THAT(r.out, HasSubstr("drip0"));
    std::string metrics;
    for (int i = 0; i < 100; ++i) {
        metrics = get("/metrics").body;
        if (metrics.find("hiro_client_disconnects_total 1") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_THAT(metrics, HasSubstr("hiro_client_disconnects_total 1"));
    EXPECT_THAT(metrics, HasSubstr("hiro_inflight_requests 0"));
}

TEST_F(GatewayTest, SigtermDrainsRequestsInFlight) {
    const int drip = start_fake({"drip", "20", "25"});
    start_hiro("tiers:\n  - {name: slow, kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(drip) + "/v1'}\n");
    StreamReader reader("-X POST " + url("/v1/chat/completions") + " -d '" + chat("slow", 20, true) + "'");
    std::string data;
    ASSERT_TRUE(reader.next(data));
    std::thread stopper([&] { EXPECT_EQ(hiro_->stop(SIGTERM, std::chrono::seconds(20)), 0); });
    const StreamResult rest = read_stream(reader);
    stopper.join();
    EXPECT_TRUE(rest.done);
    EXPECT_THAT(rest.content, HasSubstr("drip19"));
}

TEST_F(GatewayTest, FullGatewayAnswers503AndTrippedCircuitSkipsTheTier) {
    const int drip = start_fake({"drip", "40", "25"});
    const int nothing = free_port();
    start_hiro("limits: {max_inflight: 1}\ntiers:\n  - {name: slow, kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(drip) +
               "/v1'}\n  - {name: gone, kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(nothing) +
               "/v1', circuit_breaker: {failures: 2, cooldown_ms: 60000}}\n");
    StreamReader busy("-X POST " + url("/v1/chat/completions") + " -d '" + chat("slow", 40, true) + "'");
    std::string data;
    ASSERT_TRUE(busy.next(data));
    const Reply refused = post("/v1/chat/completions", chat("slow", 2));
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.header("retry-after"), "1");
    read_stream(busy);

    for (int i = 0; i < 2; ++i) {
        const Reply r = post("/v1/chat/completions", chat("gone", 2));
        EXPECT_EQ(r.status, 502);
        EXPECT_EQ(r.json()["hiro"]["tiers"][0]["failure"], "refused");
    }
    const Reply skipped = post("/v1/chat/completions", chat("gone", 2));
    EXPECT_EQ(skipped.status, 503);
    EXPECT_THAT(skipped.json()["error"]["message"].get<std::string>(), HasSubstr("circuit is open"));
}

TEST_F(GatewayTest, ModelsAndHealth) {
    start_hiro("tiers:\n" + llama_tier("edge") + llama_tier("cloud") +
               "policies:\n  - {name: hiro-cascade, kind: cascade, tiers: [edge, cloud], thresholds: [-1]}\n");
    const Reply models = get("/v1/models");
    ASSERT_EQ(models.status, 200);
    std::vector<std::string> ids;
    const json body = models.json();
    for (const auto& m : body["data"]) ids.push_back(m["id"]);
    EXPECT_THAT(ids, ::testing::UnorderedElementsAre("edge", "cloud", "hiro-cascade"));
    EXPECT_EQ(get("/health").json()["status"], "ok");
}

}  // namespace
}  // namespace hiro::test
