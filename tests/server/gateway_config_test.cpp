#include "server/gateway_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace hiro::server {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& yaml) {
    try {
        parse_gateway_config(yaml, "gw.yaml");
    } catch (const core::Error& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::invalid_input) << e.what();
        return e.what();
    }
    return "no error";
}

const std::string tiers = "tiers:\n  - {name: edge, kind: openai, base_url: 'http://127.0.0.1:1/v1'}\n";

// A folder of its own, removed at the end of the test.
struct TempDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("hiro-gw-" + std::to_string(::getpid()) + "-" + std::to_string(++count()));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        const auto file = path / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file) << text;
        return file.string();
    }
    static int& count() {
        static int n = 0;
        return n;
    }
};

// The YAML with its model_path: MODEL naming `model`.
std::string with_model(std::string yaml, const std::string& model) {
    const std::string mark = "model_path: MODEL";
    yaml.replace(yaml.find(mark), mark.size(), "model_path: '" + model + "'");
    return yaml;
}

std::string load_error(const std::string& path) {
    try {
        load_gateway_config(path);
    } catch (const core::Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(GatewayConfig, ReadsEveryKey) {
    ::setenv("HIRO_CONFIG_TEST_KEY", "sk-abc", 1);
    TempDir dir;
    const std::string model = dir.write("small.gguf", "GGUF");
    const GatewayConfig c = parse_gateway_config(with_model(R"(
listen: 0.0.0.0:9000
io_threads: 3
api_keys:
  - {name: team, key_env: HIRO_CONFIG_TEST_KEY, limits: {tokens_per_minute: 9000, budget_usd_per_month: 20}}
  - {name: ops, key: sk-ops, admin: true}
limits:
  max_body_bytes: 1000
  max_header_bytes: 2000
  max_inflight: 7
  drain_timeout_ms: 1500
  per_key: {requests_per_minute: 60, budget_usd_per_day: 1.5, reserve_completion_tokens: 256}
state: {redis: 'redis://127.0.0.1:6390/2', password_env: HIRO_CONFIG_TEST_KEY, on_unavailable: closed, timeout_ms: 40}
tiers:
  - name: edge
    kind: local
    model_path: MODEL
    threads: 2
    context: 1024
    max_concurrent: 1
  - name: cloud
    kind: openai
    base_url: http://127.0.0.1:8080/v1
    model: gpt-4o
    timeout: {connect_ms: 100, first_byte_ms: 200, idle_ms: 300}
    max_connections: 50
    max_idle_connections: 5
    retries: 2
    retry_budget_ms: 5000
    failover_on: [400, 413]
    defaults: {temperature: 0, top_p: 0.5, stop: ['END'], user: '42'}
    fallback: [edge]
    circuit_breaker: {failures: 3, cooldown_ms: 400}
    prices: {input: 2.5, output: 10}
policies:
  - {name: hiro-cascade, kind: cascade, tiers: [edge, cloud], thresholds: [-0.5], confidence: mean_logprob, defaults: {seed: 7}}
)"
,
                                                 model),
                                                 "gw.yaml");
    EXPECT_EQ(c.host, "0.0.0.0");
    EXPECT_EQ(c.port, 9000);
    EXPECT_EQ(c.io_threads, 3);
    EXPECT_EQ(c.api_keys[0].key, "sk-abc");
    // A key's own limits override limits.per_key one by one; the rest it inherits.
    EXPECT_EQ(c.api_keys[0].limits.requests_per_minute, 60);
    EXPECT_EQ(c.api_keys[0].limits.tokens_per_minute, 9000);
    EXPECT_EQ(c.api_keys[0].limits.budget_usd_per_day, 1.5);
    EXPECT_EQ(c.api_keys[0].limits.budget_usd_per_month, 20);
    EXPECT_EQ(c.api_keys[0].limits.reserve_completion_tokens, 256);
    EXPECT_FALSE(c.api_keys[0].admin);
    EXPECT_TRUE(c.api_keys[1].admin);
    EXPECT_EQ(c.api_keys[1].limits.tokens_per_minute, 0);
    EXPECT_EQ(c.state.redis_url, "redis://127.0.0.1:6390/2");
    EXPECT_FALSE(c.state.fail_open);
    EXPECT_EQ(c.state.timeout.count(), 40);
    EXPECT_EQ(c.state.redis_password, "sk-abc");
    EXPECT_EQ(c.max_inflight, 7);
    EXPECT_EQ(c.drain_timeout.count(), 1500);
    ASSERT_EQ(c.tiers.size(), 2u);
    EXPECT_EQ(c.tiers[0].spec.model_path, model);
    EXPECT_EQ(c.tiers[1].spec.timeouts.first_byte.count(), 200);
    EXPECT_EQ(c.tiers[1].retries, 2);
    EXPECT_EQ(c.tiers[1].retry_budget.count(), 5000);
    EXPECT_EQ(c.tiers[1].failover_on, (std::vector<int>{400, 413}));
    EXPECT_EQ(c.tiers[1].spec.pool.max_connections, 50u);
    EXPECT_EQ(c.tiers[1].spec.pool.max_idle, 5u);
    EXPECT_EQ(c.tiers[1].spec.defaults.dump(), R"({"temperature":0,"top_p":0.5,"stop":["END"],"user":"42"})");
    EXPECT_EQ(c.policies[0].defaults.dump(), R"({"seed":7})");
    EXPECT_EQ(c.tiers[1].fallback, std::vector<std::string>{"edge"});
    EXPECT_EQ(c.tiers[1].spec.price.output_per_million, 10);
    EXPECT_EQ(c.policies[0].spec.thresholds, std::vector<double>{-0.5});
}

TEST(GatewayConfig, ErrorsNameTheKey) {
    EXPECT_THAT(error_of("tiers: []"), HasSubstr("gw.yaml: tiers must list at least one tier"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: openai}\n"), HasSubstr("tiers[0].base_url is missing"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: openai, base_url: 'ftp://x'}\n"), HasSubstr("tiers[0].base_url must be an http:// or https:// URL"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: magic}\n"), HasSubstr("tiers[0].kind must be local or openai"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: openai, base_url: 'http://x', retires: 2}\n"),
                HasSubstr("tiers[0].retires is not a known key"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: openai, base_url: 'http://x', timeout: {first_byte_ms: soon}}\n"),
                HasSubstr("tiers[0].timeout.first_byte_ms must be a number of milliseconds"));
    EXPECT_THAT(error_of("listen: nowhere\n" + tiers), HasSubstr("listen: expected HOST:PORT"));
    EXPECT_THAT(error_of("listen: 'x:99999'\n" + tiers), HasSubstr("the port must be a number from 0 to 65535"));
    EXPECT_THAT(error_of(tiers + "policies:\n  - {name: p, kind: cascade, tiers: [edge, nope], thresholds: [-1]}\n"),
                HasSubstr("policies[0].tiers names an unknown tier 'nope'"));
    EXPECT_THAT(error_of(tiers + "policies:\n  - {name: p, kind: cascade, tiers: [edge, edge]}\n"),
                HasSubstr("needs 1 thresholds"));
    EXPECT_THAT(error_of(tiers + "policies:\n  - {name: p, kind: single, tiers: [edge], confidence: vibes}\n"),
                HasSubstr("unknown confidence estimator 'vibes'"));
    EXPECT_THAT(error_of("api_keys: [{name: k, key_env: HIRO_SURELY_UNSET_VARIABLE}]\n" + tiers),
                HasSubstr("api_keys[0].key_env: the environment variable HIRO_SURELY_UNSET_VARIABLE is not set"));
    EXPECT_THAT(error_of(tiers + "  - {name: edge, kind: openai, base_url: 'http://x'}\n"), HasSubstr("tiers[1].name 'edge' is used twice"));
    EXPECT_THAT(error_of("tiers: [oops"), HasSubstr("not valid YAML"));
    EXPECT_THAT(error_of("limits: {per_key: {budget_usd_per_day: -1}}\n" + tiers),
                HasSubstr("limits.per_key.budget_usd_per_day is -1, but must not be negative (0: no limit)"));
    EXPECT_THAT(error_of("api_keys: [{name: k, key: s, limits: {requests_per_hour: 5}}]\n" + tiers),
                HasSubstr("api_keys[0].limits.requests_per_hour is not a known key"));
    EXPECT_THAT(error_of("api_keys: [{name: k, key: s}, {name: k, key: t}]\n" + tiers), HasSubstr("api_keys[1].name 'k' is used twice"));
    EXPECT_THAT(error_of("limits: {rate_limit_per_key: 5}\n" + tiers),
                HasSubstr("limits.rate_limit_per_key is gone: set requests_per_minute under limits.per_key"));
    EXPECT_THAT(error_of("state: {redis: 'localhost:6379'}\n" + tiers), HasSubstr("state.redis: 'localhost:6379' is not a Redis URL"));
    EXPECT_THAT(error_of("state: {redis: 'redis://127.0.0.1', on_unavailable: maybe}\n" + tiers),
                HasSubstr("state.on_unavailable must be open (per-process limits while Redis is down) or closed (503)"));
    EXPECT_THAT(error_of(tiers + "limitz: {}\n"), HasSubstr("limitz is not a known key"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: openai, base_url: 'http://x', max_concurrent: -3}\n"),
                HasSubstr("gw.yaml: tiers[0].max_concurrent is -3, but must not be negative (0: no limit)"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: openai, base_url: 'http://x', retries: -1}\n"),
                HasSubstr("gw.yaml: tiers[0].retries is -1, but must not be negative"));
    EXPECT_THAT(error_of("tiers:\n  - {name: a, kind: openai, base_url: 'http://x', defaults: {model: gpt}}\n"),
                HasSubstr("tiers[0].defaults.model cannot be defaulted"));
    EXPECT_THAT(error_of("limits: {max_inflight: 0}\n" + tiers), HasSubstr("limits.max_inflight must be at least 1"));
}

TEST(GatewayConfig, PolicyFilesKeepTheirConfidenceSignalAndMapTheirModelsToTiers) {
    const auto policy = std::filesystem::temp_directory_path() / ("hiro-policy-" + std::to_string(::getpid()) + ".json");
    std::ofstream(policy) << R"({"kind": "cascade", "tiers": ["llama3.2-1b", "llama3.1-405b"], "thresholds": [-0.3], "confidence": "answer_logprob"})";
    const std::string tiers2 = "tiers:\n  - {name: edge, kind: openai, base_url: 'http://127.0.0.1:1/v1'}\n"
                               "  - {name: cloud, kind: openai, base_url: 'http://127.0.0.1:2/v1'}\n";
    const GatewayConfig c = parse_gateway_config(
        tiers2 + "policies:\n  - {name: p, file: '" + policy.string() + "', models: {llama3.2-1b: edge, llama3.1-405b: cloud}}\n", "gw.yaml");
    EXPECT_EQ(c.policies[0].spec.tiers, (std::vector<std::string>{"edge", "cloud"}));
    EXPECT_EQ(c.policies[0].confidence, "answer_logprob");  // scored live as it was tuned

    EXPECT_THAT(error_of(tiers2 + "policies:\n  - {name: p, file: '" + policy.string() +
                         "', models: {llama3.2-1b: edge, llama3.1-405b: cloud}, confidence: mean_logprob}\n"),
                HasSubstr("policies[0].confidence is mean_logprob, but " + policy.string() + " was tuned on answer_logprob confidences"));
    EXPECT_THAT(error_of(tiers2 + "policies:\n  - {name: p, file: '" + policy.string() + "'}\n"),
                HasSubstr("uses model 'llama3.2-1b', which is no tier: map it with models: {llama3.2-1b: TIER}"));
    std::filesystem::remove(policy);
}

}  // namespace
}  // namespace hiro::server

namespace hiro::server {
namespace {

TEST(GatewayConfig, ReadsAnEndpointPool) {
    TempDir dir;
    const std::string model = dir.write("small.gguf", "GGUF");
    const GatewayConfig c = parse_gateway_config(with_model(R"(
tiers:
  - name: edge
    balance: least_load
    health: {path: /health, interval_ms: 500, timeout_ms: 200}
    load: {source: metrics, interval_ms: 250}
    ejection: {after_failures: 2, base_ms: 3000}
    slow_start_ms: 4000
    queue_timeout_ms: 700
    timeout: {first_byte_ms: 900}
    prices: {input: 0.1, output: 0.2}
    endpoints:
      - {base_url: 'http://10.0.0.1:8080/v1', weight: 2, tags: [math, en], max_concurrent: 1}
      - {name: box-b, base_url: 'http://10.0.0.2:8080/v1', model: qwen}
      - {model_path: MODEL, threads: 1}
policies:
  - {name: fast, kind: single, tiers: [edge], deadline_ms: 1200}
)"
,
                                                 model),
                                                 "gw.yaml");
    const auto& spec = c.tiers.at(0).spec;
    EXPECT_EQ(spec.balancing.balance, "least_load");
    EXPECT_EQ(spec.balancing.health_interval.count(), 500);
    EXPECT_EQ(spec.balancing.health_timeout.count(), 200);
    EXPECT_EQ(spec.balancing.load_source, "metrics");
    EXPECT_EQ(spec.balancing.load_interval.count(), 250);
    EXPECT_EQ(spec.balancing.eject_after, 2);
    EXPECT_EQ(spec.balancing.ejection.count(), 3000);
    EXPECT_EQ(spec.balancing.slow_start.count(), 4000);
    EXPECT_EQ(spec.balancing.queue_timeout.count(), 700);
    ASSERT_EQ(spec.endpoints.size(), 3u);
    const auto& a = spec.endpoints[0];
    EXPECT_EQ(a.kind, "openai");
    EXPECT_EQ(a.model, "edge");  // the tier's name, as for a one-endpoint tier
    EXPECT_EQ(a.endpoint.weight, 2);
    EXPECT_THAT(a.endpoint.tags, testing::ElementsAre("math", "en"));
    EXPECT_EQ(a.endpoint.max_concurrent, 1);
    EXPECT_EQ(a.timeouts.first_byte.count(), 900);  // the tier's shared settings reach each endpoint
    EXPECT_EQ(a.price.output_per_million, 0.2);
    EXPECT_EQ(spec.endpoints[1].endpoint.name, "box-b");
    EXPECT_EQ(spec.endpoints[1].model, "qwen");
    EXPECT_EQ(spec.endpoints[2].kind, "local");
    EXPECT_EQ(spec.endpoints[2].threads, 1);
    EXPECT_EQ(spec.endpoints[2].model_path, model);
    EXPECT_EQ(c.policies.at(0).deadline_ms, 1200);
}

TEST(GatewayConfig, PoolErrorsNameTheKey) {
    const std::string pool = "tiers:\n  - name: edge\n";
    EXPECT_THAT(error_of(pool + "    endpoints: []\n"), HasSubstr("tiers[0].endpoints must list at least one endpoint"));
    EXPECT_THAT(error_of(pool + "    endpoints: [{base_url: 'http://x:1/v1', wieght: 2}]\n"), HasSubstr("tiers[0].endpoints[0].wieght is not a known key"));
    EXPECT_THAT(error_of(pool + "    endpoints: [{base_url: 'http://x:1/v1', weight: 0}]\n"),
                HasSubstr("tiers[0].endpoints[0].weight is 0, but weight must be above 0"));
    EXPECT_THAT(error_of(pool + "    endpoints: [{base_url: 'http://x:1/v1', max_concurrent: -3}]\n"),
                HasSubstr("gw.yaml: tiers[0].endpoints[0].max_concurrent is -3, but must not be negative (0: no limit)"));
    EXPECT_THAT(error_of(pool + "    base_url: 'http://x:1/v1'\n    endpoints: [{base_url: 'http://x:1/v1'}]\n"),
                HasSubstr("tiers[0].base_url belongs to each of tiers[0].endpoints"));
    EXPECT_THAT(error_of(pool + "    balance: fastest\n    endpoints: [{base_url: 'http://x:1/v1'}]\n"),
                HasSubstr("tiers[0].balance: unknown balance 'fastest' (known: least_load, least_outstanding, round_robin)"));
    EXPECT_THAT(error_of(pool + "    load: {source: prometheus}\n    endpoints: [{base_url: 'http://x:1/v1'}]\n"),
                HasSubstr("tiers[0].load.source must be metrics"));
    EXPECT_THAT(error_of(pool + "    health: {path: health}\n    endpoints: [{base_url: 'http://x:1/v1'}]\n"),
                HasSubstr("tiers[0].health.path must start with /"));
    EXPECT_THAT(error_of(tiers + "policies:\n  - {name: p, kind: single, tiers: [edge], deadline_ms: 0}\n"),
                HasSubstr("policies[0].deadline_ms must be above 0"));
}

}  // namespace
}  // namespace hiro::server

namespace hiro::server {
namespace {

TEST(GatewayConfig, AMissingModelFileNamesTheKey) {
    EXPECT_EQ(error_of("tiers:\n  - {name: a, kind: local, model_path: /nonexistent/x.gguf}\n"),
              "gw.yaml: tiers[0].model_path: no such file /nonexistent/x.gguf");
    EXPECT_EQ(error_of("tiers:\n  - name: a\n    endpoints: [{base_url: 'http://x:1/v1'}, {model_path: /nonexistent/y.gguf}]\n"),
              "gw.yaml: tiers[0].endpoints[1].model_path: no such file /nonexistent/y.gguf");
    EXPECT_EQ(error_of("tiers:\n  - {name: a, kind: openai, base_url: 'https://x', ca_file: /nonexistent/ca.pem}\n"),
              "gw.yaml: tiers[0].ca_file: no such file /nonexistent/ca.pem");
    EXPECT_EQ(error_of(tiers + "policies:\n  - {name: p, file: /nonexistent/p.json}\n"), "gw.yaml: policies[0].file: no such file /nonexistent/p.json");
    // A config given as text (the --tier flags) has no folder: its paths resolve from the working directory.
    EXPECT_EQ(error_of("tiers:\n  - {name: a, kind: local, model_path: nowhere/x.gguf}\n"),
              "gw.yaml: tiers[0].model_path: no such file " + (std::filesystem::current_path() / "nowhere/x.gguf").string());
}

TEST(GatewayConfig, RelativePathsResolveFromTheConfigsFolder) {
    TempDir dir;
    const std::string model = dir.write("models/small.gguf", "GGUF");
    const std::string policy = dir.write("policies/p.json", R"({"kind": "single", "tiers": ["edge"]})");
    const std::string config = dir.write("conf/gw.yaml",
                                         "access_log: {path: logs/access.log}\n"
                                         "tiers:\n  - {name: edge, kind: local, model_path: ../models/small.gguf}\n"
                                         "  - name: pool\n    endpoints: [{model_path: '../models/small.gguf'}]\n"
                                         "policies:\n  - {name: p, file: ../policies/p.json}\n");
    ASSERT_NE(std::filesystem::current_path(), dir.path / "conf");
    const GatewayConfig c = load_gateway_config(config);
    EXPECT_EQ(c.tiers.at(0).spec.model_path, model);
    EXPECT_EQ(c.tiers.at(1).spec.endpoints.at(0).model_path, model);
    EXPECT_EQ(c.access_log.path, (dir.path / "conf/logs/access.log").string());
    EXPECT_EQ(c.policies.at(0).spec.tiers, std::vector<std::string>{"edge"});

    const std::string missing = dir.write("conf/missing.yaml", "tiers:\n  - {name: edge, kind: local, model_path: x.gguf}\n");
    EXPECT_EQ(load_error(missing), missing + ": tiers[0].model_path: no such file " + (dir.path / "conf/x.gguf").string());

    // What `hiro serve --check --config FILE` reads.
    const std::string negative = dir.write("conf/negative.yaml", "tiers:\n  - {name: a, kind: openai, base_url: 'http://x', max_concurrent: -3}\n");
    EXPECT_EQ(load_error(negative), negative + ": tiers[0].max_concurrent is -3, but must not be negative (0: no limit)");

    const std::string stderr_log = dir.write("conf/stderr.yaml", "access_log: stderr\n" + tiers);
    EXPECT_EQ(load_gateway_config(stderr_log).access_log.path, "stderr");
}

}  // namespace
}  // namespace hiro::server

namespace hiro::server {
namespace {

TEST(GatewayConfig, OnlineLearningSettingsAreCheckedAndNameWhatIsWrong) {
    const std::string two = "tiers:\n  - {name: edge, kind: openai, base_url: 'http://127.0.0.1:1/v1'}\n"
                            "  - {name: cloud, kind: openai, base_url: 'http://127.0.0.1:2/v1'}\n";
    const std::string adaptive = "policies:\n  - {name: auto, kind: adaptive_cascade, tiers: [edge, cloud], online: ";
    const auto c = parse_gateway_config(two + adaptive + "{match: choice, feedback_window_s: 60, save_every_s: 2}}\n", "gw.yaml");
    EXPECT_EQ(c.policies[0].online.match, "choice");
    EXPECT_EQ(c.policies[0].online.feedback_window.count(), 60);
    EXPECT_EQ(c.policies[0].online.save_every.count(), 2);
    EXPECT_THAT(error_of(two + "policies:\n  - {name: c, kind: cascade, tiers: [edge, cloud], thresholds: [-1], online: {}}\n"),
                HasSubstr("policies[0].online configures how an adaptive_cascade learns; this policy is cascade"));
    EXPECT_THAT(error_of(two + adaptive + "{state: redis}}\n"), HasSubstr("no state.redis is configured"));
    EXPECT_THAT(error_of(two + adaptive + "{match: embedding}}\n"), HasSubstr("policies[0].online.embedding_tier"));
    EXPECT_THAT(error_of(two + adaptive + "{match: embedding, embedding_tier: nope}}\n"), HasSubstr("unknown tier 'nope'"));
    EXPECT_THAT(error_of(two + adaptive + "{match: fuzzy}}\n"), HasSubstr("must be exact, normalized, choice or embedding"));
    EXPECT_THAT(error_of(two + adaptive + "{state: file}}\n"), HasSubstr("state_file is not set"));
    EXPECT_THAT(error_of(two + adaptive + "{epsilon: 0.1}}\n"), HasSubstr("online.epsilon is not a known key"));
}

}  // namespace
}  // namespace hiro::server
