// `hiro record` end to end: the in-process engine and llama-server over HTTP
// on the real stories260K model, and `hiro eval` reading what it wrote.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "child_process.h"
#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Ordered: the file's model order is part of what is tested.
std::vector<nlohmann::ordered_json> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<nlohmann::ordered_json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::ordered_json::parse(line));
    return lines;
}

TEST(RecordCommand, TwoTiersProduceAnOutcomeFileThatEvalReads) {
    const int port = free_port();
    const std::string model = shared_model("stories260K.gguf");
    ChildProcess server({HIRO_LLAMA_SERVER, "-m", model, "--host", "127.0.0.1", "--port", std::to_string(port), "-np", "1", "-t", "1"});
    ASSERT_TRUE(server.wait_until_ok("http://127.0.0.1:" + std::to_string(port) + "/health")) << server.log();

    TempDir dir;
    const auto prompts = dir.file("prompts.jsonl"), out = dir.file("out.jsonl"), summary = dir.file("summary.json");
    std::ofstream(prompts) << R"({"id": "s1", "prompt": "Once upon a time", "gold": "there was a little"})" << "\n"
                           << R"({"prompt": "Lily and Tom went to the park.", "gold": "They played"})" << "\n"
                           << R"({"id": 3, "prompt": "The cat", "gold": "sat"})" << "\n";
    const auto r = run_command(hiro("record --prompts " + prompts + " --tier local:" + model + " --tier server=openai:http://127.0.0.1:" +
                                    std::to_string(port) + "/v1#stories --raw --max-tokens 5 --threads 1 --out " + out + " --json " + summary));
    ASSERT_EQ(r.exit_code, 0) << r.out << server.log();
    EXPECT_THAT(r.out, HasSubstr("3 prompts from"));

    const auto lines = read_lines(out);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[2]["id"], "3");
    for (const auto& line : lines) {
        std::vector<std::string> names;
        for (const auto& [name, _] : line["models"].items()) names.push_back(name);
        EXPECT_THAT(names, ElementsAre("stories260K", "server"));  // the order given, cheapest first
        const auto& local = line["models"]["stories260K"];
        const auto& http = line["models"]["server"];
        EXPECT_EQ(local["signals"].size(), 6u) << local;
        EXPECT_EQ(http["signals"].size(), 6u) << http;
        // The same greedy answer and confidence in-process and over HTTP.
        EXPECT_EQ(local["text"], http["text"]);
        EXPECT_NEAR(local["confidence"].get<double>(), http["confidence"].get<double>(), 1e-3);
        EXPECT_EQ(local["tokens_out"], 5);
        EXPECT_GT(local["latency_ms"].get<double>(), 0.0);
    }
    // ", there was a little" normalises to the gold answer.
    EXPECT_TRUE(lines[0]["models"]["stories260K"]["correct"].get<bool>()) << lines[0];
    EXPECT_TRUE(lines[0]["models"]["server"]["correct"].get<bool>());

    const auto eval = run_command(hiro("eval " + out + " --strict"));
    ASSERT_EQ(eval.exit_code, 0) << eval.out;
    EXPECT_THAT(eval.out, HasSubstr("3 queries, 2 models, confidence = mean_logprob"));

    std::ifstream in(summary);
    const auto s = nlohmann::json::parse(in);
    EXPECT_NEAR(s["tiers"][0]["accuracy"].get<double>(), 1.0 / 3.0, 1e-9);
    EXPECT_EQ(s["tiers"][1]["failed"], 0);
}

TEST(RecordCommand, BadInputSaysHowToFixIt) {
    TempDir dir;
    const auto prompts = dir.file("prompts.jsonl");
    std::ofstream(prompts) << R"({"prompt": "a", "gold": "b"})" << "\n" << R"({"prompt": "no gold"})" << "\n";
    const std::string model = shared_model("stories260K.gguf");

    auto r = run_command(hiro("record --prompts " + prompts + " --tier local:" + model + " --out " + dir.file("o.jsonl")));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("prompts.jsonl line 2: gold is missing"));

    std::ofstream(prompts) << R"({"prompt": "a", "gold": "b"})" << "\n";
    r = run_command(hiro("record --prompts " + prompts + " --tier gpu:" + model + " --out " + dir.file("o.jsonl")));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("expected [NAME=]local:PATH.gguf or [NAME=]openai:URL#MODEL"));

    r = run_command(hiro("record --prompts " + prompts + " --tier local:" + model + " --match fuzzy --out " + dir.file("o.jsonl")));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr("unknown match mode 'fuzzy'"));

    r = run_command(hiro("record --prompts " + prompts + " --tier local:/nonexistent.gguf --out " + dir.file("o.jsonl")));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("model file /nonexistent.gguf does not exist"));

    // An upstream that is down: the query is kept as a wrong answer with its error.
    const auto out = dir.file("down.jsonl");
    r = run_command(hiro("record --prompts " + prompts + " --tier down=openai:http://127.0.0.1:" + std::to_string(free_port()) +
                         "/v1#x --out " + out));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    const auto j = nlohmann::json::parse(line);
    EXPECT_FALSE(j["models"]["down"]["correct"].get<bool>());
    EXPECT_TRUE(j["models"]["down"].contains("error"));
}

}  // namespace
}  // namespace hiro::test
