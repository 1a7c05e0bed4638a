// What an operator runs hiro with: an access log, liveness and readiness,
// CORS, a default route, embeddings, and metrics a real Prometheus scrapes.
#include <gmock/gmock.h>

#include <cmath>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

TEST_F(GatewayTest, AccessLogHasAJsonLinePerRequestAndNeverTheKeyOrThePrompt) {
    ::setenv("HIRO_TEST_API_KEY", "sk-access-log-key", 1);
    const std::string log = dir_.file("access.jsonl");
    start_hiro("access_log: " + log + "\napi_keys: [{name: team-a, key_env: HIRO_TEST_API_KEY}]\ntiers:\n" + llama_tier("edge") +
               llama_tier("cloud") + "policies:\n  - {name: hiro-cascade, kind: cascade, tiers: [edge, cloud], thresholds: [0]}\n");
    const std::string auth = "-H 'Authorization: Bearer sk-access-log-key'";
    ASSERT_EQ(post("/v1/chat/completions", chat("hiro-cascade", 4), auth).status, 200);
    EXPECT_EQ(post("/v1/chat/completions", chat("nope", 4), auth).status, 404);
    EXPECT_EQ(post("/v1/chat/completions", chat("edge", 4)).status, 401);
    std::vector<json> lines;
    ASSERT_TRUE(eventually([&] { return (lines = json_lines(log)).size() == 3; }, std::chrono::seconds(10))) << lines.size();
    const json& answered = lines[0];
    EXPECT_EQ(answered["key"], "team-a");
    EXPECT_EQ(answered["path"], "/v1/chat/completions");
    EXPECT_EQ(answered["status"], 200);
    EXPECT_EQ(answered["route"], "hiro-cascade");
    EXPECT_EQ(answered["answered_by"], "cloud");
    EXPECT_THAT(answered["tiers"], ::testing::ElementsAre("edge:rejected", "cloud:accepted"));
    EXPECT_EQ(answered["completion_tokens"], 8);  // 4 from each tier asked
    EXPECT_GT(answered["cost_usd"].get<double>(), 0.0);
    EXPECT_GT(answered["latency_ms"].get<double>(), 0.0);
    EXPECT_THAT(answered["id"].get<std::string>(), ::testing::StartsWith("hiro-"));
    EXPECT_EQ(lines[1]["status"], 404);
    EXPECT_EQ(lines[2]["status"], 401);
    EXPECT_FALSE(lines[2].contains("key"));
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(text, ::testing::Not(HasSubstr("sk-access-log-key")));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("Once upon a time")));
}

TEST_F(GatewayTest, HealthIsLivenessAndReadySaysWhichTiersCanAnswer) {
    const int nothing = free_port();
    start_hiro("tiers:\n" + tier_at("gone", nothing, ", circuit_breaker: {failures: 1, cooldown_ms: 60000}") + llama_tier("cloud"));
    EXPECT_EQ(get("/ready").status, 200);
    EXPECT_EQ(post("/v1/chat/completions", chat("gone", 2)).status, 502);
    const Reply ready = get("/ready");
    EXPECT_EQ(ready.status, 200) << ready.body;  // the cloud tier can still answer
    const json tiers = ready.json()["tiers"];
    EXPECT_EQ(tiers["gone"]["ready"], false);
    EXPECT_EQ(tiers["gone"]["circuit"], "open");
    EXPECT_THAT(tiers["gone"]["last_error"].get<std::string>(), HasSubstr("Connection refused"));
    EXPECT_EQ(tiers["cloud"]["ready"], true);

    start_hiro("tiers:\n" + tier_at("gone", nothing));
    EXPECT_EQ(post("/v1/chat/completions", chat("gone", 2)).status, 502);
    EXPECT_EQ(get("/ready").status, 503);   // no tier can answer
    EXPECT_EQ(get("/health").status, 200);  // but hiro itself is alive
}

TEST_F(GatewayTest, CorsLetsAllowedOriginsCallFromABrowser) {
    start_hiro("cors: {allow_origins: ['https://app.example']}\ntiers:\n" + llama_tier("edge"));
    const Reply preflight = request("-X OPTIONS -H 'Origin: https://app.example' -H 'Access-Control-Request-Method: POST' "
                                    "-H 'Access-Control-Request-Headers: authorization, content-type' " +
                                    url("/v1/chat/completions"));
    EXPECT_EQ(preflight.status, 204);
    EXPECT_EQ(preflight.header("access-control-allow-origin"), "https://app.example");
    EXPECT_EQ(preflight.header("access-control-allow-headers"), "authorization, content-type");
    EXPECT_THAT(preflight.header("access-control-allow-methods"), HasSubstr("POST"));

    const Reply allowed = post("/v1/chat/completions", chat("edge", 2), "-H 'Origin: https://app.example'");
    EXPECT_EQ(allowed.status, 200);
    EXPECT_EQ(allowed.header("access-control-allow-origin"), "https://app.example");
    const Reply other = post("/v1/chat/completions", chat("edge", 2), "-H 'Origin: https://evil.example'");
    EXPECT_EQ(other.status, 200);
    EXPECT_EQ(other.header("access-control-allow-origin"), "");
}

TEST_F(GatewayTest, DefaultRouteAnswersRequestsWithoutAModelAndModelsSayWhatEachIs) {
    start_hiro("default_route: hiro-cascade\ntiers:\n" + llama_tier("edge") + llama_tier("cloud") +
               "policies:\n  - {name: hiro-cascade, kind: cascade, tiers: [edge, cloud], thresholds: [-100]}\n");
    const Reply r = post("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 2})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["hiro"]["route"], "hiro-cascade");

    const json models = get("/v1/models").json();
    std::map<std::string, json> by_id;
    for (const auto& m : models["data"]) by_id[m["id"]] = m["hiro"];
    EXPECT_EQ(by_id["edge"]["kind"], "tier");
    EXPECT_EQ(by_id["edge"]["tier_kind"], "openai");
    EXPECT_EQ(by_id["hiro-cascade"]["kind"], "policy");
    EXPECT_EQ(by_id["hiro-cascade"]["tiers"], json::array({"edge", "cloud"}));
    EXPECT_EQ(by_id["hiro-cascade"]["confidence"], "mean_logprob");
}

double cosine(const json& a, const json& b) {
    double dot = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        dot += a[i].get<double>() * b[i].get<double>();
        na += a[i].get<double>() * a[i].get<double>();
        nb += b[i].get<double>() * b[i].get<double>();
    }
    return dot / std::sqrt(na * nb);
}

TEST_F(GatewayTest, EmbeddingsFromALocalTierMatchLlamaServerThroughAnOpenAITier) {
    const int port = free_port();
    ChildProcess embedder({HIRO_LLAMA_SERVER, "-m", shared_model("stories260K.gguf"), "--host", "127.0.0.1", "--port", std::to_string(port),
                           "--embedding", "--pooling", "mean", "-t", "1", "--no-webui"});
    ASSERT_TRUE(embedder.wait_until_ok(base(port) + "/health")) << embedder.log();
    start_hiro("tiers:\n  - {name: local, kind: local, model_path: '" + shared_model("stories260K.gguf") + "', threads: 1}\n" +
               tier_at("remote", port));
    const std::string body = R"({"model": "%s", "input": ["Once upon a time", "a cat sat"]})";
    auto ask = [&](const std::string& model) {
        std::string b = body;
        b.replace(b.find("%s"), 2, model);
        return post("/v1/embeddings", b);
    };
    const Reply local = ask("local");
    const Reply remote = ask("remote");
    ASSERT_EQ(local.status, 200) << local.body;
    ASSERT_EQ(remote.status, 200) << remote.body;
    const json l = local.json(), r = remote.json();
    ASSERT_EQ(l["data"].size(), 2u);
    ASSERT_EQ(r["data"].size(), 2u);
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(l["data"][i]["embedding"].size(), r["data"][i]["embedding"].size());
        EXPECT_NEAR(cosine(l["data"][i]["embedding"], r["data"][i]["embedding"]), 1.0, 1e-4);
    }
    EXPECT_GT(l["usage"]["prompt_tokens"].get<int>(), 0);
    const Reply refused = post("/v1/embeddings", R"({"model": "local", "input": "x", "dimensions": 8})");
    EXPECT_EQ(refused.status, 400);
    EXPECT_THAT(refused.json()["error"]["message"].get<std::string>(), HasSubstr("'dimensions'"));
}

TEST_F(GatewayTest, MetricsPassPromtoolAndARealPrometheusScrapesThem) {
    start_hiro("tiers:\n" + llama_tier("edge"));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(post("/v1/chat/completions", chat("edge", 2)).status, 200);
    const std::string metrics = dir_.file("metrics.txt");
    std::ofstream(metrics) << get("/metrics").body;
    const auto lint = run_command("promtool check metrics < " + metrics);
    EXPECT_EQ(lint.exit_code, 0) << lint.out;

    const int prometheus_port = free_port();
    const std::string config = dir_.file("prometheus.yml");
    std::ofstream(config) << "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: hiro\n    static_configs: [{targets: ['127.0.0.1:" +
                                 std::to_string(hiro_port_) + "']}]\n";
    ChildProcess prometheus({"/usr/bin/prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.file("tsdb"),
                             "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)});
    const std::string query = "http://127.0.0.1:" + std::to_string(prometheus_port) +
                              "/api/v1/query?query=hiro_requests_total%7Bendpoint%3D%22%2Fv1%2Fchat%2Fcompletions%22%2Cstatus%3D%22200%22%7D";
    json answer;
    EXPECT_TRUE(eventually(
        [&] {
            answer = json::parse(request(query).body, nullptr, false);
            return answer.is_object() && !answer["data"]["result"].empty();
        },
        std::chrono::seconds(30)))
        << answer.dump() << prometheus.log();
    EXPECT_EQ(answer["data"]["result"][0]["value"][1], "3");
}

// docs/serve.md's two-tier cascade without a config file: the same tiers `record` takes.
TEST_F(GatewayTest, ServeWithoutAConfigFileRunsACascadeFromTierFlags) {
    const std::string flags = " --tier edge=local:" + shared_model("stories260K.gguf") + " --tier big=openai:" + llama_url() +
                              "#stories --cascade edge,big --threshold -1";
    const auto printed = run_command(std::string(HIRO_EXECUTABLE) + " serve" + flags + " --print-config");
    ASSERT_EQ(printed.exit_code, 0) << printed.out;
    EXPECT_THAT(printed.out, testing::HasSubstr("{name: cascade, kind: cascade, tiers: [edge, big], thresholds: [-1]}"));
    EXPECT_THAT(printed.out, testing::HasSubstr("default_route: cascade"));

    hiro_port_ = free_port();
    hiro_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        HIRO_EXECUTABLE, "serve", "--tier", "edge=local:" + shared_model("stories260K.gguf"), "--tier", "big=openai:" + llama_url() + "#stories",
        "--cascade", "edge,big", "--threshold", "-1", "--listen", "127.0.0.1:" + std::to_string(hiro_port_)});
    ASSERT_TRUE(hiro_->wait_until_ok(url("/health"))) << hiro_->log();
    const Reply r = request("-X POST -H 'Content-Type: application/json' -d '{\"messages\": [{\"role\": \"user\", \"content\": \"Once upon a time\"}], "
                            "\"max_tokens\": 8}' " + url("/v1/chat/completions"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["hiro"]["route"], "cascade");
    EXPECT_EQ(r.json()["hiro"]["tiers"][0]["tier"], "edge");

    const auto wrong = run_command(std::string(HIRO_EXECUTABLE) + " serve --tier edge=local:x.gguf --tier big=local:y.gguf --cascade edge,big");
    EXPECT_NE(wrong.exit_code, 0);
    EXPECT_THAT(wrong.out, testing::HasSubstr("--cascade of 2 tiers needs 1 threshold(s)"));
    const auto neither = run_command(std::string(HIRO_EXECUTABLE) + " serve");
    EXPECT_THAT(neither.out, testing::HasSubstr("give either --config FILE or --tier flags"));
}

}  // namespace
}  // namespace hiro::test
