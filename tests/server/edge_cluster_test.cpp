// An edge cluster as operators run one: three llama-server processes
// (stories260K, one slot, one thread each) as one pool, the suite's
// llama-server as the cloud tier, hiro balancing between them.
#include <gmock/gmock.h>
#include <signal.h>

#include <set>
#include <thread>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

using nlohmann::json;

class EdgeClusterTest : public GatewayTest {
protected:
    void SetUp() override {
        for (int i = 0; i < 3; ++i) {
            ports_.push_back(free_port());
            edges_.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{
                HIRO_LLAMA_SERVER, "-m", shared_model("stories260K.gguf"), "--host", "127.0.0.1", "--port", std::to_string(ports_.back()),
                "-c", "2048", "-np", "1", "-t", "1", "--no-webui", "--metrics"}));
        }
        for (int i = 0; i < 3; ++i) ASSERT_TRUE(edges_[i]->wait_until_ok(base(ports_[i]) + "/health")) << edges_[i]->log();
    }

    std::string endpoint(int i) const { return "127.0.0.1:" + std::to_string(ports_[i]); }

    // The edge pool (with `extra` tier keys), falling back to the cloud tier unless `alone`.
    std::string cluster(const std::string& extra, bool alone = false) const {
        std::string endpoints;
        for (int port : ports_) endpoints += "      - {base_url: 'http://127.0.0.1:" + std::to_string(port) + "/v1', max_concurrent: 1}\n";
        return "tiers:\n  - name: edge\n    defaults: {temperature: 0}\n" + std::string(alone ? "" : "    fallback: [cloud]\n") + extra +
               "    endpoints:\n" + endpoints + llama_tier("cloud");
    }

    double endpoint_metric(const std::string& name, int i) { return metric(name + "{tier=\"edge\",endpoint=\"" + endpoint(i) + "\"}"); }

    // hiro_loadgen against hiro; its JSON summary.
    json load(const std::string& body, int requests, int concurrency, const std::string& flags = "") {
        const auto file = dir_.file("load.json");
        std::ofstream(file) << body;
        const auto r = run_command(std::string(HIRO_LOADGEN) + " --url " + url("/v1/chat/completions") + " --body " + file +
                                   " --requests " + std::to_string(requests) + " --concurrency " + std::to_string(concurrency) + " " + flags +
                                   " --json -");
        const json summary = json::parse(r.out.substr(r.out.rfind("\n{") + 1), nullptr, false);
        EXPECT_TRUE(summary.is_object()) << r.out;
        return summary;
    }

    static std::string story(int max_tokens, bool stream = false) {
        return json{{"model", "edge"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}}, {"max_tokens", max_tokens},
                    {"ignore_eos", true}, {"stream", stream}}
            .dump();
    }

    std::vector<int> ports_;
    std::vector<std::unique_ptr<ChildProcess>> edges_;
};

// With no fallback tier: the pool alone retries, and continues the streams the kill broke off on its other endpoints.
TEST_F(EdgeClusterTest, KillingAnEdgeEndpointUnderLoadLosesNoRequest) {
    start_hiro(cluster("    ejection: {base_ms: 120000}\n", true));  // still out when the test looks, however slow the machine
    json summary;
    std::thread client([&] { summary = load(story(64, true), 240, 6, "--stream"); });
    ASSERT_TRUE(eventually([&] { return endpoint_metric("hiro_endpoint_requests_total", 0) >= 5; })) << hiro_->log();
    edges_[0]->stop(SIGKILL, std::chrono::seconds(5));
    client.join();

    EXPECT_EQ(summary["statuses"]["200"], 240) << summary.dump() << hiro_->log();
    EXPECT_EQ(summary["transport_errors"], 0) << summary.dump();
    EXPECT_EQ(summary["unfinished_streams"], 0) << summary.dump();
    EXPECT_EQ(endpoint_metric("hiro_endpoint_up", 0), 0) << get("/metrics").body;
    EXPECT_GE(endpoint_metric("hiro_endpoint_ejections_total", 0), 1);
    // The other two endpoints carried the load.
    EXPECT_GT(endpoint_metric("hiro_endpoint_requests_total", 1) + endpoint_metric("hiro_endpoint_requests_total", 2), 180);
    EXPECT_EQ(metric("hiro_failed_requests_total{route=\"edge\"}"), -1) << get("/metrics").body;
    const json ready = get("/ready").json();
    EXPECT_EQ(ready["tiers"]["edge"]["endpoints"][0]["admitted"], false) << ready.dump();
    EXPECT_THAT(ready["tiers"]["edge"]["endpoints"][0].value("why_not", ""), testing::HasSubstr("ejected")) << ready.dump();
}

TEST_F(EdgeClusterTest, AHungEndpointIsEjectedWithinItsHealthIntervalAndReadmittedWhenItRecovers) {
    start_hiro(cluster("    health: {interval_ms: 500, timeout_ms: 300}\n    slow_start_ms: 1000\n"));
    ASSERT_TRUE(eventually([&] { return endpoint_metric("hiro_endpoint_up", 1) == 1; }));
    ::kill(edges_[1]->pid(), SIGSTOP);
    const auto stopped = std::chrono::steady_clock::now();
    ASSERT_TRUE(eventually([&] { return endpoint_metric("hiro_endpoint_up", 1) == 0; }, std::chrono::seconds(5)));
    // Out within one interval plus the check's time-out (800 ms), with room for a busy machine's scrapes.
    EXPECT_LT(std::chrono::steady_clock::now() - stopped, std::chrono::milliseconds(2000));
    EXPECT_THAT(get("/ready").json()["tiers"]["edge"]["endpoints"][1].value("why_not", ""), testing::HasSubstr("unhealthy"));

    // Meanwhile every request is answered, none by the hung endpoint.
    for (int i = 0; i < 12; ++i) {
        const Reply r = post("/v1/chat/completions", story(8));
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_NE(r.json()["hiro"]["tiers"][0].value("endpoint", ""), endpoint(1)) << r.body;
    }
    ::kill(edges_[1]->pid(), SIGCONT);
    EXPECT_TRUE(eventually([&] { return endpoint_metric("hiro_endpoint_up", 1) == 1; }, std::chrono::seconds(5))) << get("/metrics").body;
    // Back in the rotation: after its slow start it takes requests again.
    EXPECT_TRUE(eventually([&] {
        post("/v1/chat/completions", story(8));
        return endpoint_metric("hiro_endpoint_requests_total", 1) > 0;
    }));
}

TEST_F(EdgeClusterTest, ARequestWhoseDeadlineCannotBeMetOnTheEdgeGoesToTheCloudAtOnce) {
    start_hiro(cluster("    balance: round_robin\n"));
    // Each endpoint answers once, so that hiro knows its service time.
    for (int i = 0; i < 3; ++i) ASSERT_EQ(post("/v1/chat/completions", story(400)).status, 200);
    double fastest_s = 1e9, slowest_s = 0;
    for (int i = 0; i < 3; ++i) {
        fastest_s = std::min(fastest_s, endpoint_metric("hiro_endpoint_service_seconds", i));
        slowest_s = std::max(slowest_s, endpoint_metric("hiro_endpoint_service_seconds", i));
    }
    ASSERT_GT(fastest_s, 0) << get("/metrics").body;
    const auto with_budget = [](double s) { return "-H 'x-hiro-deadline-ms: " + std::to_string(s * 1000) + "'"; };

    // A budget the edge meets keeps the request there.
    const Reply fits = post("/v1/chat/completions", story(400), with_budget(slowest_s * 20));
    ASSERT_EQ(fits.status, 200) << fits.body;
    EXPECT_EQ(fits.header("x-hiro-tier"), "edge") << fits.body;

    // One no endpoint can meet goes to the cloud without being sent to the edge.
    const Reply r = post("/v1/chat/completions", story(400), with_budget(fastest_s / 2));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-hiro-tier"), "cloud");
    const json trace = r.json()["hiro"];
    EXPECT_EQ(trace["tiers"][0]["tier"], "edge") << trace.dump();
    EXPECT_EQ(trace["tiers"][0]["outcome"], "overflow") << trace.dump();
    EXPECT_THAT(trace["tiers"][0].value("overflow", ""), testing::MatchesRegex("predicted [0-9.]+ s > budget [0-9.]+ s on 127.0.0.1:[0-9]+"));
    EXPECT_EQ(trace["tiers"][1]["tier"], "cloud") << trace.dump();
    EXPECT_EQ(trace["answered_by"], "cloud");
    EXPECT_EQ(metric("hiro_overflow_total{tier=\"edge\"}"), 1);
    double edge_requests = 0;
    for (int i = 0; i < 3; ++i) edge_requests += endpoint_metric("hiro_endpoint_requests_total", i);
    EXPECT_EQ(edge_requests, 4);

    const Reply bad = post("/v1/chat/completions", story(8), "-H 'x-hiro-deadline-ms: soon'");
    EXPECT_EQ(bad.status, 400);
    EXPECT_THAT(bad.body, testing::HasSubstr("x-hiro-deadline-ms"));
}

TEST_F(EdgeClusterTest, LoadPollingReadsEachLlamaServersOwnLoad) {
    start_hiro(cluster("    balance: least_load\n    load: {source: metrics, interval_ms: 200}\n"));
    // -1 until polled: llama-server --metrics answers with its requests_processing and requests_deferred.
    EXPECT_TRUE(eventually([&] {
        for (int i = 0; i < 3; ++i) {
            if (endpoint_metric("hiro_endpoint_polled_busy", i) != 0) return false;
        }
        return true;
    })) << get("/metrics").body;
    for (int i = 0; i < 6; ++i) ASSERT_EQ(post("/v1/chat/completions", story(16)).status, 200);
    // Each endpoint got measured (least_load balances by outstanding requests until all have answered).
    for (int i = 0; i < 3; ++i) EXPECT_GT(endpoint_metric("hiro_endpoint_requests_total", i), 0) << i;
}

// A local model may be one endpoint of a pool, beside a remote one.
TEST_F(GatewayTest, APoolMixesALocalModelAndAnOpenAIEndpoint) {
    start_hiro("tiers:\n  - name: edge\n    balance: round_robin\n    defaults: {temperature: 0}\n    endpoints:\n"
               "      - {model_path: '" + shared_model("stories260K.gguf") + "', threads: 1}\n      - {base_url: '" + llama_url() + "'}\n");
    std::set<std::string> served;
    for (int i = 0; i < 4; ++i) {
        const Reply r = post("/v1/chat/completions", chat("edge", 8));
        ASSERT_EQ(r.status, 200) << r.body;
        served.insert(r.json()["hiro"]["tiers"][0].value("endpoint", ""));
    }
    EXPECT_EQ(served, (std::set<std::string>{"stories260K.gguf", "127.0.0.1:" + std::to_string(llama_port_)}));
}

// stories260K reads 128 tokens at most: the queries are the starts of real prompts.
std::string start_of(const json& record) { return record["prompt"].get<std::string>().substr(0, 90); }

// The first query of a shared outcome file, as a chat request to `model`.
std::string prompt_of(const std::string& file, const std::string& model) {
    std::ifstream in(outcome_file(file));
    std::string line;
    std::getline(in, line);
    return json{{"model", model}, {"messages", {{{"role", "user"}, {"content", start_of(json::parse(line))}}}}, {"max_tokens", 4}}.dump();
}

// A shared outcome file with its prompts cut as the test's queries are, to train the task router on.
std::string cut_copy(const std::string& file, const std::string& to) {
    std::ifstream in(outcome_file(file));
    std::ofstream out(to);
    for (std::string line; std::getline(in, line);) {
        json record = json::parse(line);
        record["prompt"] = start_of(record);
        out << record.dump() << "\n";
    }
    return to;
}

TEST_F(EdgeClusterTest, ATaskRouterSendsEachQueryToTheEndpointsTaggedWithItsTask) {
    std::string data;
    for (const char* f : {"mmlu_llama_train.jsonl", "gsm8k_llama_train.jsonl", "triviaqa_llama_train.jsonl"}) {
        if (!data.empty()) data += ',';
        data += cut_copy(f, dir_.file(f));
    }
    const std::string router = dir_.file("tasks.json");
    const auto trained = run_command(std::string(HIRO_EXECUTABLE) + " router tasks --data " + data + " --out " + router);
    ASSERT_EQ(trained.exit_code, 0) << trained.out;
    std::string endpoints;
    const char* tags[] = {"[mmlu]", "[mmlu]", "[gsm8k]"};
    for (int i = 0; i < 3; ++i) {
        endpoints += "      - {base_url: 'http://127.0.0.1:" + std::to_string(ports_[i]) + "/v1', tags: " + tags[i] + "}\n";
    }
    start_hiro("policies:\n  - {name: capable, kind: single, tiers: [edge], task_router: '" + router + "'}\n"
               "tiers:\n  - name: edge\n    fallback: [cloud]\n    endpoints:\n" + endpoints + llama_tier("cloud"));

    for (int i = 0; i < 4; ++i) {
        const json mmlu = post("/v1/chat/completions", prompt_of("mmlu_llama_test.jsonl", "capable")).json();
        EXPECT_EQ(mmlu["hiro"]["task"], "mmlu") << mmlu.dump();
        EXPECT_THAT(mmlu["hiro"]["tiers"][0].value("endpoint", ""), testing::AnyOf(endpoint(0), endpoint(1))) << mmlu.dump();
    }
    const json gsm8k = post("/v1/chat/completions", prompt_of("gsm8k_llama_train.jsonl", "capable")).json();
    EXPECT_EQ(gsm8k["hiro"]["task"], "gsm8k") << gsm8k.dump();
    EXPECT_EQ(gsm8k["hiro"]["tiers"][0].value("endpoint", ""), endpoint(2)) << gsm8k.dump();

    // No endpoint can do trivia: the cloud answers, and the trace says why.
    const Reply trivia = post("/v1/chat/completions", prompt_of("triviaqa_llama_test.jsonl", "capable"));
    ASSERT_EQ(trivia.status, 200) << trivia.body;
    const json t = trivia.json()["hiro"];
    EXPECT_EQ(t["task"], "triviaqa") << t.dump();
    EXPECT_EQ(t["tiers"][0]["outcome"], "overflow") << t.dump();
    EXPECT_EQ(t["tiers"][0]["overflow"], "no admitted endpoint is tagged 'triviaqa'") << t.dump();
    EXPECT_EQ(t["answered_by"], "cloud");

    // The only gsm8k endpoint gone, gsm8k goes to the cloud too.
    edges_[2]->stop(SIGKILL, std::chrono::seconds(5));
    const json gone = post("/v1/chat/completions", prompt_of("gsm8k_llama_train.jsonl", "capable")).json();
    EXPECT_EQ(gone["hiro"]["answered_by"], "cloud") << gone.dump();
}

// A stream broken off by one endpoint goes on from another of the pool: one
// unbroken answer, with no fallback tier.
TEST_F(GatewayTest, AStreamBrokenOnOneEndpointContinuesOnAnother) {
    const int breaking = start_fake({"break", "3"});
    start_hiro("tiers:\n  - name: edge\n    balance: round_robin\n    defaults: {temperature: 0}\n    endpoints:\n"
               "      - {base_url: 'http://127.0.0.1:" + std::to_string(breaking) + "/v1'}\n      - {base_url: '" + llama_url() + "'}\n");
    const auto file = dir_.file("stream.json");
    std::ofstream(file) << chat("edge", 12, true);  // round robin: the first request goes to the breaking endpoint
    StreamReader stream("-X POST -H 'Content-Type: application/json' --data-binary @" + file + " " + url("/v1/chat/completions"));
    std::string data, text, last;
    while (stream.next(data)) {
        last = data;
        if (data == "[DONE]") break;
        const json chunk = json::parse(data);
        ASSERT_FALSE(chunk.contains("error")) << data;
        if (!chunk["choices"].empty()) text += chunk["choices"][0]["delta"].value("content", "");
    }
    EXPECT_EQ(last, "[DONE]");
    EXPECT_THAT(text, testing::StartsWith("drip0 drip1 drip2 "));
    EXPECT_GT(text.size(), std::string("drip0 drip1 drip2 ").size()) << "llama-server continued nothing: " << text;
    EXPECT_THAT(hiro_->log(), testing::HasSubstr("continuing the stream on"));
}

// The prediction counts the requests queued ahead: an endpoint that answers in
// 1 s meets a 1.5 s budget when idle, and not with one answer in progress.
TEST_F(GatewayTest, OverflowCountsTheQueueAheadOfARequest) {
    const int slow = start_fake({"drip", "10", "100"});
    start_hiro("policies:\n  - {name: edge-first, kind: single, tiers: [edge], deadline_ms: 1500}\n"
               "tiers:\n  - {name: edge, fallback: [cloud], endpoints: [{base_url: 'http://127.0.0.1:" + std::to_string(slow) +
               "/v1', max_concurrent: 1}]}\n" + llama_tier("cloud"));
    const std::string body = json{{"model", "edge-first"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 8}}.dump();
    ASSERT_EQ(post("/v1/chat/completions", body).header("x-hiro-tier"), "edge");  // learns its 1 s service time
    ASSERT_EQ(post("/v1/chat/completions", body).header("x-hiro-tier"), "edge");  // idle: 1 s fits in 1.5 s

    const auto file = dir_.file("ahead.json");
    std::ofstream(file) << body;
    std::thread ahead([&] { request("-X POST -H 'Content-Type: application/json' --data-binary @" + file + " " + url("/v1/chat/completions")); });
    const bool in_progress = eventually([&] { return metric("hiro_endpoint_outstanding{tier=\"edge\",endpoint=\"127.0.0.1:" + std::to_string(slow) + "\"}") == 1; });
    const Reply r = post("/v1/chat/completions", body);
    ahead.join();
    ASSERT_TRUE(in_progress);
    EXPECT_EQ(r.header("x-hiro-tier"), "cloud") << r.body;
    EXPECT_THAT(r.json()["hiro"]["tiers"][0].value("overflow", ""), testing::HasSubstr("predicted 2.0 s > budget 1.5 s"));
}

}  // namespace
}  // namespace hiro::test
