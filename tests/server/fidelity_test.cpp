// The same requests straight to llama-server, through hiro to it, and to
// hiro's local tier on the same model give the same answers, field for field
// (but what differs between any two calls: ids, timestamps, timings, the
// prompt cache's statistics, and hiro's own additions).
#include <gmock/gmock.h>

#include <cmath>

#include "gguf_rewrite.h"
#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

using nlohmann::json;

// A small ChatML template that renders tools, tool calls and tool results,
// as Hermes-style models' do.
constexpr const char* tool_template = R"({%- if tools %}<|im_start|>system
Tools:{% for tool in tools %} {{ tool.function.name }}{% endfor %}. Call as <tool_call>{"name": N, "arguments": A}</tool_call><|im_end|>
{% endif %}{%- for message in messages %}{%- if message.role == 'assistant' and message.tool_calls %}<|im_start|>assistant
{% for tc in message.tool_calls %}<tool_call>{"name": "{{ tc.function.name }}", "arguments": {{ tc.function.arguments if tc.function.arguments is string else tc.function.arguments | tojson }}}</tool_call>{% endfor %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>user
<tool_response>{{ message.content }}</tool_response><|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %})";

// Numbers equal to the precision llama-server itself keeps between two calls
// (a prompt read from its cache takes another numeric path: log-probabilities
// move in the sixth digit).
bool same(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) return std::abs(a.get<double>() - b.get<double>()) <= 1e-3 * std::max(1.0, std::abs(a.get<double>()));
    if (a.type() != b.type() || a.size() != b.size()) return false;
    if (a.is_object()) {
        for (const auto& [key, value] : a.items()) {
            if (!b.contains(key) || !same(value, b[key])) return false;
        }
        return true;
    }
    if (a.is_array()) {
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (!same(a[i], b[i])) return false;
        }
        return true;
    }
    return a == b;
}

// What no two calls share.
json comparable(json body) {
    for (const char* key : {"id", "created", "timings", "model", "hiro"}) body.erase(key);
    if (body.contains("usage")) body["usage"].erase("prompt_tokens_details");
    for (auto& choice : body["choices"]) {
        if (!choice.contains("message") || !choice["message"].contains("tool_calls")) continue;
        for (auto& call : choice["message"]["tool_calls"]) call.erase("id");
    }
    return body;
}

class FidelityTest : public GatewayTest {
protected:
    void SetUp() override {
        // stories260K with the tool template and a context long enough for a tool's description.
        model_ = rewrite_gguf(shared_model("stories260K.gguf"), dir_.file("tools.gguf"), {{"tokenizer.chat_template", tool_template}},
                              {{"llama.context_length", 1024}});
        const int port = free_port();
        server_ = std::make_unique<ChildProcess>(std::vector<std::string>{HIRO_LLAMA_SERVER, "-m", model_, "--host", "127.0.0.1", "--port",
                                                                          std::to_string(port), "-np", "2", "-t", "1", "--no-webui"});
        ASSERT_TRUE(server_->wait_until_ok(base(port) + "/health")) << server_->log();
        direct_ = base(port) + "/v1";
        start_hiro("tiers:\n  - {name: upstream, kind: openai, base_url: '" + direct_ + "'}\n  - {name: local, kind: local, model_path: '" +
                   model_ + "', threads: 1}\n");
    }

    // The answer of llama-server, of hiro's upstream tier and of hiro's local tier.
    std::array<json, 3> ask(const std::string& path, json body) {
        std::array<json, 3> out;
        const auto file = dir_.file("request.json");
        std::ofstream(file) << body.dump();
        const Reply d = request("-X POST -H 'Content-Type: application/json' --data-binary @" + file + " " + direct_ + path);
        out[0] = d.json();
        int i = 1;
        for (const char* tier : {"upstream", "local"}) {
            body["model"] = tier;
            const Reply r = post("/v1" + path, body.dump());
            EXPECT_EQ(r.status, d.status) << tier << ": " << r.body;
            out[static_cast<std::size_t>(i++)] = r.json();
        }
        return out;
    }

    // The three answers to `body`; returns them for more checks.
    std::array<json, 3> expect_same(const std::string& path, const json& body) {
        auto answers = ask(path, body);
        const auto& [direct, through, local] = answers;
        EXPECT_TRUE(direct.contains("choices")) << direct.dump();
        EXPECT_TRUE(same(comparable(through), comparable(direct)))
            << "through hiro to llama-server, for " << body.dump() << "\n" << through.dump() << "\n" << direct.dump();
        EXPECT_TRUE(same(comparable(local), comparable(direct)))
            << "hiro's local tier, for " << body.dump() << "\n" << local.dump() << "\n" << direct.dump();
        return answers;
    }

    std::string model_;
    std::string direct_;
    std::unique_ptr<ChildProcess> server_;
};

// The city is one of two, so that even a 260K-parameter model's call ends.
const json weather_tool = json::parse(R"([{"type": "function", "function": {"name": "weather", "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}}, "required": ["city"]}}}])");

json user(const std::string& text) { return json::array({{{"role", "user"}, {"content", text}}}); }

TEST_F(FidelityTest, ChatLogprobsChoicesAndSchemasAnswerAsLlamaServer) {
    expect_same("/chat/completions", {{"messages", user("Once upon a time")}, {"max_tokens", 16}, {"temperature", 0}});
    expect_same("/chat/completions", {{"messages", user("Once upon a time")}, {"max_tokens", 8}, {"temperature", 0}, {"logprobs", true},
                                      {"top_logprobs", 3}});
    // n choices: hiro counts the tokens of every choice, as OpenAI does and as
    // hiro prices them; llama-server's usage counts one choice's.
    json two = {{"messages", user("Once upon a time")}, {"max_tokens", 8}, {"temperature", 0}, {"n", 2}};
    auto [direct, through, local] = ask("/chat/completions", two);
    ASSERT_EQ(local["choices"].size(), 2u) << local.dump();
    EXPECT_TRUE(same(comparable(local)["choices"], comparable(direct)["choices"])) << local.dump() << "\n" << direct.dump();
    EXPECT_TRUE(same(comparable(through), comparable(direct)));
    EXPECT_EQ(local["usage"]["completion_tokens"], 16);
    json schema = {{"messages", user("Say something")}, {"max_tokens", 40}, {"temperature", 0}};
    schema["response_format"] = json::parse(R"({"type": "json_schema", "json_schema": {"name": "a", "schema":
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}})");
    expect_same("/chat/completions", schema);
    expect_same("/chat/completions", {{"messages", user("Once upon a time")}, {"max_tokens", 12}, {"temperature", 0.9}, {"seed", 11},
                                      {"top_k", 20}, {"min_p", 0.1}, {"presence_penalty", 0.5}, {"logit_bias", {{"42", -5}}}});
    expect_same("/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 8}, {"temperature", 0}, {"logprobs", 2}});
}

// A tool-call round trip: tools offered, then the call and its result in the
// history. (On stories260K llama-server itself never emits the call, its
// vocabulary lacking the template's markers, so both answer in text; hiro
// handing an upstream's tool_calls on untouched is tested with a fake
// upstream in passthrough_test.cpp.)
TEST_F(FidelityTest, AToolCallRoundTripAnswersAsLlamaServer) {
    json body = {{"messages", user("Weather in Paris?")}, {"max_tokens", 24}, {"temperature", 0}, {"tools", weather_tool},
                 {"tool_choice", "auto"}};
    expect_same("/chat/completions", body);
    const json call = {{"id", "call_1"}, {"type", "function"}, {"function", {{"name", "weather"}, {"arguments", R"({"city": "Paris"})"}}}};
    body["messages"].push_back({{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({call})}});
    body["messages"].push_back({{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "18 C, sunny"}});
    body["max_tokens"] = 12;
    expect_same("/chat/completions", body);
}

TEST_F(FidelityTest, StreamsCarryTheSameAnswerAndTheUsageWhenAsked) {
    const json body = {{"messages", user("Once upon a time")}, {"max_tokens", 12}, {"temperature", 0}, {"stream", true},
                       {"stream_options", {{"include_usage", true}}}};
    auto read = [&](const std::string& url, const std::string& model) {
        json b = body;
        if (!model.empty()) b["model"] = model;
        const auto file = dir_.file("stream.json");
        std::ofstream(file) << b.dump();
        StreamReader reader("-X POST -H 'Content-Type: application/json' --data-binary @" + file + " " + url);
        std::string content, finish, data;
        json usage;
        bool done = false;
        while (reader.next(data)) {
            if (data == "[DONE]") {
                done = true;
                continue;
            }
            const json chunk = json::parse(data);
            if (chunk.contains("usage") && chunk["usage"].is_object()) usage = chunk["usage"];
            for (const auto& c : chunk["choices"]) {
                if (c.contains("delta") && c["delta"].value("content", json()).is_string()) content += c["delta"]["content"].get<std::string>();
                if (c.value("finish_reason", json()).is_string()) finish = c["finish_reason"];
            }
        }
        EXPECT_TRUE(done) << url << " " << model;
        usage.erase("prompt_tokens_details");
        return std::tuple(content, finish, usage);
    };
    const auto direct = read(direct_ + "/chat/completions", "");
    EXPECT_EQ(read(url("/v1/chat/completions"), "upstream"), direct);
    EXPECT_EQ(read(url("/v1/chat/completions"), "local"), direct);
    EXPECT_EQ(std::get<2>(direct)["completion_tokens"], 12);
}

}  // namespace
}  // namespace hiro::test
