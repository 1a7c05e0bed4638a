// A cascade that tunes itself while it serves: hiro serve with an
// adaptive_cascade over two stories260K tiers (the in-process engine, then
// llama-server), real feedback over HTTP, verification in the background, and
// the learned state surviving a restart (in a file, and in a real Redis).
#include <csignal>

#include "gateway_fixture.h"
#include "redis_process.h"

namespace hiro::test {
namespace {

using nlohmann::json;

class AdaptiveServingTest : public GatewayTest {
protected:
    // small: the in-process engine; big: llama-server. Both greedy. The warm
    // start (-20 on the log-probability scale) accepts every small answer.
    void start_adaptive(const std::string& online, double epsilon = 0.0, const std::string& top = "") {
        start_hiro(top + "tiers:\n  - {name: small, kind: local, model_path: '" + shared_model("stories260K.gguf") +
                   "', threads: 1, defaults: {temperature: 0}}\n" + llama_tier("big") +
                   "policies:\n  - name: auto\n    kind: adaptive_cascade\n    tiers: [small, big]\n    thresholds: [-20]\n"
                   "    params: {lambda: 0.1, epsilon: " + std::to_string(epsilon) + "}\n    online: " + online + "\n");
    }

    Reply ask(int i) {
        const json body = {{"model", "auto"},
                           {"messages", {{{"role", "user"}, {"content", "Tell me story number " + std::to_string(i)}}}},
                           {"max_tokens", 8}};
        return post("/v1/chat/completions", body.dump());
    }

    double threshold() { return metric(R"(hiro_cascade_threshold{route="auto",tier="small"})"); }

    void restart() {
        ASSERT_EQ(hiro_->stop(SIGTERM, std::chrono::seconds(20)), 0) << hiro_->log();
        hiro_ = std::make_unique<ChildProcess>(std::vector<std::string>{HIRO_EXECUTABLE, "serve", "--config", config_path_});
        ASSERT_TRUE(hiro_->wait_until_ok(url("/health"))) << hiro_->log();
    }

    // Asks 12 questions (all kept from the small tier), says every answer was
    // wrong, and checks that the small tier's threshold rose above every
    // confidence it had, so the same questions now go to the big tier.
    double teach_with_negative_feedback() {
        const double before = threshold();
        EXPECT_NEAR(before, -20.0, 1e-9);
        double highest = -1e9;
        std::vector<std::string> ids;
        for (int i = 0; i < 12; ++i) {
            const Reply r = ask(i);
            EXPECT_EQ(r.status, 200) << r.body;
            const json h = r.json()["hiro"];
            EXPECT_EQ(h["answered_by"], "small") << h.dump();
            EXPECT_EQ(h["stopped"], "confident") << h.dump();
            EXPECT_NEAR(h["tiers"][0]["threshold"].get<double>(), before, 1e-9);  // the trace shows the threshold it decided with
            highest = std::max(highest, h["tiers"][0]["confidence"].get<double>());
            EXPECT_EQ(r.header("x-request-id"), h["id"]);
            ids.push_back(h["id"]);
        }
        for (const auto& id : ids) {
            const Reply f = post("/v1/feedback", json{{"id", id}, {"correct", false}}.dump());
            EXPECT_EQ(f.status, 200) << f.body;
            EXPECT_TRUE(f.json()["learned"].get<bool>()) << f.body;
        }
        const double after = threshold();
        EXPECT_GT(after, highest) << "a burst of 'wrong' must make the cascade escalate what it used to accept";
        for (int i = 0; i < 3; ++i) {
            const json h = ask(i).json()["hiro"];
            EXPECT_EQ(h["answered_by"], "big") << h.dump();
            EXPECT_NEAR(h["tiers"][0]["threshold"].get<double>(), after, 1e-9);
        }
        EXPECT_EQ(metric(R"(hiro_learner_observations_total{route="auto",tier="small",label="feedback"})"), 12);
        return after;
    }
};

TEST_F(AdaptiveServingTest, NegativeFeedbackRaisesTheThresholdAndARestartResumesFromTheStateFile) {
    const std::string state = dir_.file("auto-state.json");
    start_adaptive("{state_file: '" + state + "', feedback_window_s: 600, save_every_s: 1}");
    const double learned = teach_with_negative_feedback();

    restart();  // SIGTERM: drains, learns from the answers since (escalated ones), saves
    EXPECT_NEAR(threshold(), learned, 0.05) << hiro_->log();
    EXPECT_EQ(ask(0).json()["hiro"]["answered_by"], "big");
    const json saved = json::parse(std::ifstream(state), nullptr, false);
    ASSERT_TRUE(saved.is_object()) << "the state file must hold the learner's JSON state";
    EXPECT_EQ(saved["learner"], "exp_weights");
}

TEST_F(AdaptiveServingTest, TheLearnedStateResumesFromRedis) {
    RedisProcess redis;
    start_adaptive("{state: redis, feedback_window_s: 600, save_every_s: 1}", 0.0, "state: {redis: " + redis.url() + "}\n");
    const double learned = teach_with_negative_feedback();
    ASSERT_TRUE(eventually([&] { return redis.cli("GET hiro:learner:auto").find("exp_weights") != std::string::npos; }))
        << "saved within save_every_s: " << hiro_->log();
    restart();
    ASSERT_TRUE(eventually([&] { return std::abs(threshold() - learned) < 0.05; }, std::chrono::seconds(5))) << hiro_->log();
    EXPECT_EQ(ask(0).json()["hiro"]["answered_by"], "big");
}

TEST_F(AdaptiveServingTest, FeedbackErrorsSayWhatIsWrong) {
    start_adaptive("{feedback_window_s: 600}");
    const json h = ask(1).json()["hiro"];
    const std::string id = h["id"];
    EXPECT_EQ(post("/v1/feedback", "{not json").status, 400);
    const Reply both = post("/v1/feedback", json{{"id", id}, {"correct", true}, {"score", 1}}.dump());
    EXPECT_EQ(both.status, 400);
    EXPECT_NE(both.body.find("either 'correct'"), std::string::npos) << both.body;
    const Reply extra = post("/v1/feedback", json{{"id", id}, {"correct", true}, {"comment", "nice"}}.dump());
    EXPECT_EQ(extra.status, 400);
    EXPECT_NE(extra.body.find("'comment'"), std::string::npos) << extra.body;
    EXPECT_EQ(post("/v1/feedback", json{{"id", id}, {"score", 1.5}}.dump()).status, 400);
    const Reply unknown = post("/v1/feedback", json{{"id", "hiro-0-0"}, {"correct", true}}.dump());
    EXPECT_EQ(unknown.status, 404);
    EXPECT_NE(unknown.body.find("feedback_window_s"), std::string::npos) << unknown.body;
    EXPECT_EQ(post("/v1/feedback", json{{"id", id}, {"score", 0.9}}.dump()).status, 200) << hiro_->log();
    const Reply again = post("/v1/feedback", json{{"id", id}, {"correct", false}}.dump());
    EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(AdaptiveServingTest, VerificationAsksTheNextTierInTheBackgroundAndCountsItsCost) {
    start_adaptive("{feedback_window_s: 0}", 1.0);  // verify every accepted answer; learn as soon as it is labelled
    for (int i = 0; i < 6; ++i) {
        const Reply r = ask(i);
        ASSERT_EQ(r.status, 200) << r.body;
        const json h = r.json()["hiro"];
        EXPECT_EQ(h["answered_by"], "small");
        EXPECT_EQ(h["tiers"].size(), 1u) << "the client's answer never waits for the verifier: " << h.dump();
    }
    auto verified = [&] {
        return std::max(0.0, metric(R"(hiro_verifications_total{route="auto",result="agreed"})")) +
               std::max(0.0, metric(R"(hiro_verifications_total{route="auto",result="disagreed"})"));
    };
    ASSERT_TRUE(eventually([&] { return verified() == 6; })) << get("/metrics").body;
    EXPECT_GT(metric(R"(hiro_verification_cost_usd_total{route="auto"})"), 0.0);  // big has prices: verification is not free
    EXPECT_EQ(metric(R"(hiro_learner_observations_total{route="auto",tier="small",label="verified"})"), 6);
    EXPECT_EQ(metric(R"(hiro_verifications_total{route="auto",result="failed"})"), -1);
}

}  // namespace
}  // namespace hiro::test

namespace hiro::test {
namespace {

TEST_F(AdaptiveServingTest, VerificationCanCompareAnswersByTheirEmbeddings) {
    // The small tier embeds both answers (stories260K's mean hidden state); a cosine of -1 always agrees.
    start_adaptive("{feedback_window_s: 0, match: embedding, embedding_tier: small, min_cosine: -1}", 1.0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(ask(i).status, 200);
    ASSERT_TRUE(eventually([&] { return metric(R"(hiro_verifications_total{route="auto",result="agreed"})") == 3; })) << get("/metrics").body;
    EXPECT_EQ(metric(R"(hiro_verifications_total{route="auto",result="failed"})"), -1);
}

}  // namespace
}  // namespace hiro::test
