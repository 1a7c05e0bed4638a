// How the live side of an adaptive cascade turns what it saw into what its
// learners observe: labels from agreement, verification and feedback, each
// query learned from once, feedback only from the key that asked.
#include "server/cascade_tuning.h"

#include <gtest/gtest.h>

namespace hiro::server {
namespace {

using Verdict = CascadeTuning::Verdict;

struct Tuned {
    Metrics metrics;
    std::shared_ptr<policy::AdaptiveCascade> cascade;
    std::unique_ptr<CascadeTuning> tuning;

    explicit Tuned(double warm_start, std::chrono::seconds window = std::chrono::seconds(600)) {
        declare_tuning_metrics(metrics);
        cascade = policy::build_adaptive_cascade({"adaptive_cascade", {"small", "big"}, {warm_start}, {{"lambda", 0.1}, {"epsilon", 0.0}}});
        TuningSettings s;
        s.feedback_window = window;
        tuning = std::make_unique<CascadeTuning>("auto", cascade, s, metrics, nullptr);
    }
    // A query the cascade kept at `kept` with the small tier's confidence; labelled at once.
    void serve(const std::string& id, std::size_t kept, double confidence, std::optional<bool> small_agreed = std::nullopt) {
        AnsweredQuery q;
        q.key = "team-a";
        q.kept = kept;
        q.confidence = kept == 0 ? std::vector<double>{confidence} : std::vector<double>{confidence, -0.1};
        EXPECT_FALSE(tuning->answered(id, q));  // epsilon 0: never verified
        std::vector<std::optional<bool>> agrees;
        if (kept == 1) agrees.push_back(small_agreed);
        tuning->labelled(id, agrees, std::nullopt);
    }
    double threshold() const { return cascade->thresholds()[0]; }
};

TEST(CascadeTuning, EscalatedAnswersTheBigTierAgreedWithTeachTheCascadeToAcceptThem) {
    Tuned t(0.0, std::chrono::seconds(0));  // warm start: escalate everything below probability 1; learn at once
    for (int i = 0; i < 30; ++i) t.serve(std::to_string(i), 1, -0.5, true);
    EXPECT_LT(t.threshold(), -0.5) << "agreeing with the big tier, the small one was right: accepting saves lambda";
    EXPECT_EQ(t.tuning->version(), 30u);
}

TEST(CascadeTuning, EscalatedAnswersTheBigTierContradictedKeepTheCascadeEscalating) {
    Tuned t(0.0, std::chrono::seconds(0));
    for (int i = 0; i < 30; ++i) t.serve(std::to_string(i), 1, -0.5, false);
    EXPECT_GT(t.threshold(), -0.5);
}

TEST(CascadeTuning, FeedbackIsTakenOnceFromTheKeyThatAskedAndAnswersWaitForItUntilTheirWindowEnds) {
    Tuned t(-20.0);
    t.serve("a", 0, -0.3);
    t.serve("b", 0, -0.3);
    EXPECT_EQ(t.tuning->version(), 0u) << "an answer waits for its feedback window";
    EXPECT_EQ(t.tuning->feedback("a", "team-b", false, 0.0), Verdict::not_yours);
    EXPECT_EQ(t.tuning->feedback("a", "team-a", false, 0.0), Verdict::learned);
    EXPECT_EQ(t.tuning->feedback("a", "team-a", false, 1.0), Verdict::already_given);
    EXPECT_EQ(t.tuning->feedback("b", "someone", true, 0.0), Verdict::learned) << "an admin key may give feedback on any answer";
    EXPECT_EQ(t.tuning->feedback("c", "team-a", false, 0.0), Verdict::unknown);
    EXPECT_GT(t.threshold(), -0.3) << "two wrong accepted answers: escalating them would have cost only lambda";
    t.serve("d", 0, -0.3);
    t.tuning->learn_expired(std::chrono::steady_clock::now());
    EXPECT_EQ(t.tuning->version(), 2u);
    t.tuning->learn_expired(std::chrono::steady_clock::time_point::max());  // the window ends: learned without feedback
    EXPECT_EQ(t.tuning->version(), 3u);
    AnsweredQuery verifying;
    verifying.confidence = {-0.3};
    t.tuning->answered("e", verifying);
    t.tuning->learn_expired(std::chrono::steady_clock::time_point::max());
    EXPECT_EQ(t.tuning->version(), 3u) << "a query being verified waits for its label";
    t.tuning->learn_all();  // shutting down: learned with what is known
    EXPECT_EQ(t.tuning->version(), 4u);
    EXPECT_EQ(t.tuning->feedback("a", "team-a", false, 1.0), Verdict::unknown) << "gone once its window ended";
}

TEST(CascadeTuning, FeedbackOnAnAnswerStillBeingVerifiedIsLearnedOnceTheVerifierAnswers) {
    Tuned t(-20.0);
    AnsweredQuery q;
    q.key = "k";
    q.confidence = {-0.3};
    t.tuning->answered("v", q);
    EXPECT_EQ(t.tuning->feedback("v", "k", false, 0.0), Verdict::waiting);
    EXPECT_EQ(t.tuning->version(), 0u);
    t.tuning->labelled("v", {}, true);
    EXPECT_EQ(t.tuning->version(), 1u);
}

}  // namespace
}  // namespace hiro::server
