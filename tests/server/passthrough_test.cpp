// The gateway is transparent: what hiro does not decide reaches the tier as
// the client sent it, and the tier's answer reaches the client as it came.
#include <gmock/gmock.h>

#include <sstream>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// Every field of OpenAI's chat completions request, a history with a tool
// call and its result, and a vendor field hiro has never heard of.
json every_chat_field() {
    return json::parse(R"({
      "model": "cloud",
      "messages": [
        {"role": "developer", "content": "Answer with the weather tool."},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}], "name": "ana"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
          "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C, sunny"}
      ],
      "tools": [{"type": "function", "function": {"name": "weather", "description": "Current weather",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
      "tool_choice": "auto", "parallel_tool_calls": false,
      "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": true}},
      "temperature": 0.7, "top_p": 0.9, "n": 2, "stop": ["\n\n"], "max_completion_tokens": 64, "max_tokens": 64,
      "presence_penalty": 0.5, "frequency_penalty": 0.25, "logit_bias": {"50256": -100}, "seed": 42, "user": "user-7",
      "logprobs": true, "top_logprobs": 3, "metadata": {"team": "a"}, "store": false, "service_tier": "auto",
      "reasoning_effort": "low", "modalities": ["text"], "prediction": {"type": "content", "content": "18"},
      "web_search_options": {}, "top_k": 40, "min_p": 0.05, "x_vendor_extension": {"anything": [1, "two", null]}
    })");
}

TEST_F(GatewayTest, EveryFieldReachesThePassthroughTierAndNothingElse) {
    const std::string log = dir_.file("received.jsonl");
    const int upstream = start_fake({"record", log});
    start_hiro("tiers:\n" + tier_at("cloud", upstream, ", model: upstream-model"));

    json sent = every_chat_field();
    const Reply r = post("/v1/chat/completions", sent.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    sent["stream"] = true;
    sent["stream_options"] = {{"include_usage", true}};
    StreamReader stream("-X POST " + url("/v1/chat/completions") + " -d '" + sent.dump() + "'");
    for (std::string data; stream.next(data);) {
    }

    const auto received = json_lines(log);
    ASSERT_EQ(received.size(), 2u);
    json expected = every_chat_field();
    expected["model"] = "upstream-model";  // hiro owns the model name: the tier's own
    EXPECT_EQ(received[0], expected) << received[0].dump(2);
    expected["stream"] = true;
    expected["stream_options"] = {{"include_usage", true}};
    EXPECT_EQ(received[1], expected) << received[1].dump(2);
}

TEST_F(GatewayTest, ConfigDefaultsFillOnlyWhatTheClientLeftOut) {
    const std::string log = dir_.file("received.jsonl");
    const int upstream = start_fake({"record", log});
    start_hiro("tiers:\n" + tier_at("cloud", upstream, ", defaults: {temperature: 0, seed: 7}"));
    const json messages = json::array({{{"role", "user"}, {"content", "hi"}}});
    ASSERT_EQ(post("/v1/chat/completions", json{{"model", "cloud"}, {"messages", messages}}.dump()).status, 200);
    ASSERT_EQ(post("/v1/chat/completions", json{{"model", "cloud"}, {"messages", messages}, {"temperature", 0.9}}.dump()).status, 200);
    const auto received = json_lines(log);
    ASSERT_EQ(received.size(), 2u);
    EXPECT_EQ(received[0]["temperature"], 0);
    EXPECT_EQ(received[0]["seed"], 7);
    EXPECT_EQ(received[1]["temperature"], 0.9);
    EXPECT_FALSE(received[0].contains("max_tokens"));  // nothing invented
    EXPECT_FALSE(received[0].contains("top_p"));
}

TEST_F(GatewayTest, RejectedAnswerIsServedWithoutASecondGenerationWhenTheTierAboveFails) {
    const std::string log = dir_.file("edge.jsonl");
    const int edge = start_fake({"record", log});  // answers with confidence -0.25
    const int cloud = start_fake({"status", "503"});
    start_hiro("tiers:\n" + tier_at("edge", edge) + tier_at("cloud", cloud, ", fallback: [edge]") +
               "policies:\n  - {name: cascade, kind: cascade, tiers: [edge, cloud], thresholds: [-0.1]}\n");
    for (const bool stream : {false, true}) {
        const Reply r = post("/v1/chat/completions", chat("cascade", 8, stream));
        ASSERT_EQ(r.status, 200) << r.body;
        const json trace = stream ? json::parse(r.body.substr(r.body.rfind("data: {") + 6, r.body.rfind("\n\ndata: [DONE]") - r.body.rfind("data: {") - 6))["hiro"]
                                  : r.json()["hiro"];
        EXPECT_EQ(trace["answered_by"], "edge") << trace.dump();
        EXPECT_EQ(trace["stopped"], "fallback");
        EXPECT_EQ(trace["tiers"][0]["outcome"], "accepted");
        EXPECT_EQ(trace["tiers"][1]["outcome"], "failed");
        EXPECT_EQ(trace["tiers"].size(), 2u);  // the edge was not asked again
    }
    EXPECT_EQ(json_lines(log).size(), 2u);  // one generation per request
}

TEST_F(GatewayTest, UpstreamClientErrorReachesTheClientUnlessConfiguredToFailOver) {
    const int refusing = start_fake({"status", "400"});
    start_hiro("tiers:\n" + tier_at("strict", refusing) + tier_at("lenient", refusing, ", failover_on: [400], fallback: [steady]") +
               llama_tier("steady"));
    const Reply refused = post("/v1/chat/completions", chat("strict", 4));
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_THAT(refused.json()["error"]["message"].get<std::string>(), HasSubstr("fake upstream says no"));
    EXPECT_EQ(refused.json()["hiro"]["tiers"][0]["failure"], "client_error");

    const Reply failed_over = post("/v1/chat/completions", chat("lenient", 4));
    EXPECT_EQ(failed_over.status, 200) << failed_over.body;
    EXPECT_EQ(failed_over.json()["hiro"]["answered_by"], "steady");
}

// The tool call an upstream's streamed deltas add up to.
json streamed_tool_call(const std::string& sse) {
    json call = {{"function", {{"name", ""}, {"arguments", ""}}}};
    std::istringstream lines(sse);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("data: {", 0) != 0) continue;
        const json chunk = json::parse(line.substr(6));
        for (const auto& c : chunk.value("choices", json::array())) {
            for (const auto& d : c["delta"].value("tool_calls", json::array())) {
                if (d.contains("id")) call["id"] = d["id"];
                if (d.contains("type")) call["type"] = d["type"];
                const json f = d.value("function", json::object());
                call["function"]["name"] = call["function"]["name"].get<std::string>() + f.value("name", "");
                call["function"]["arguments"] = call["function"]["arguments"].get<std::string>() + f.value("arguments", "");
            }
        }
    }
    return call;
}

TEST_F(GatewayTest, ToolCallsReachTheClientWholeStreamedOrJudgedByACascade) {
    const int tool = start_fake({"tool"});
    start_hiro("tiers:\n" + tier_at("caller", tool) + llama_tier("cloud") +
               "policies:\n  - {name: cascade, kind: cascade, tiers: [caller, cloud], thresholds: [-1]}\n");
    const json expected = json::parse(R"({"id": "call_fake1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}})");
    const Reply whole = post("/v1/chat/completions", chat("caller", 8));
    ASSERT_EQ(whole.status, 200) << whole.body;
    EXPECT_EQ(whole.json()["choices"][0]["message"]["tool_calls"][0], expected);
    EXPECT_EQ(whole.json()["choices"][0]["finish_reason"], "tool_calls");

    const Reply streamed = post("/v1/chat/completions", chat("caller", 8, true));
    EXPECT_EQ(streamed_tool_call(streamed.body), expected);
    EXPECT_THAT(streamed.body, HasSubstr("\"finish_reason\":\"tool_calls\""));

    // A cascade judges a tool call by its tokens' log-probabilities (here
    // -0.25 >= -1: kept), then streams the judged answer as deltas.
    const Reply judged = post("/v1/chat/completions", chat("cascade", 8, true));
    EXPECT_EQ(streamed_tool_call(judged.body), expected) << judged.body;
    EXPECT_THAT(judged.body, HasSubstr("\"answered_by\":\"caller\""));
}

}  // namespace
}  // namespace hiro::test
