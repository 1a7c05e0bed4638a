// The HI decision modules are fitted on the validation split only, and the
// thresholds tuned there are what the report applies to the test split.
#include <gtest/gtest.h>

#include <cmath>

#include "hi/hi_experiment.h"
#include "hi/inference.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

TEST(DecisionModules, FittedOnValidationOnlyAndReportedOnTest) {
    TempDir cache;
    hi::HiOptions o;
    o.cache_dir = cache.file("hi");
    o.profiles = std::string(HIRO_SOURCE_DIR) + "/config/edge/profiles.yaml";
    o.validation_size = 3000;
    o.train_limit = 4000;
    o.tiny_epochs = o.remote_epochs = o.exit_epochs = 1;
    const hi::HiReport r = hi::run_hi(o);
    EXPECT_EQ(r.validation_size, 3000u);
    EXPECT_EQ(r.test_size, 10000u);

    // Refit from the stored models' validation predictions: the same modules.
    const hi::FashionMnist data = hi::load_fashion_mnist(o.data_dir, o.validation_size, o.seed);
    const hi::Network tiny = hi::Network::load(r.models[0].file);
    const hi::LocalPredictions val{hi::predict(tiny, data.validation, hi::Head::final, 1), data.validation.labels};
    const hi::LocalPredictions test{hi::predict(tiny, data.test, hi::Head::final, 1), data.test.labels};
    const hi::MaxSoftmaxModule ms = hi::fit_max_softmax(val);
    const hi::Top2LogisticModule lr = hi::fit_top2_logistic(val);
    EXPECT_DOUBLE_EQ(r.max_softmax.temperature, ms.temperature);
    EXPECT_DOUBLE_EQ(r.logistic.bias, lr.bias);
    EXPECT_DOUBLE_EQ(r.logistic.w_top1, lr.w_top1);
    // ... and not what the test split would give.
    EXPECT_NE(r.max_softmax.temperature, hi::fit_max_softmax(test).temperature);
    EXPECT_NE(r.logistic.bias, hi::fit_top2_logistic(test).bias);

    // The HI threshold is the smallest that reaches the target on validation.
    std::vector<double> conf;
    std::vector<bool> local, remote;
    const hi::Network remote_net = hi::Network::load(r.models[1].file);
    const hi::LocalPredictions rv{hi::predict(remote_net, data.validation, hi::Head::final, 1), data.validation.labels};
    for (std::size_t i = 0; i < val.size(); ++i) {
        conf.push_back(ms.confidence(&val.logits[i * hi::class_count]));
        local.push_back(val.correct(i));
        remote.push_back(rv.correct(i));
    }
    EXPECT_DOUBLE_EQ(r.max_softmax.threshold, hi::tune_threshold(conf, local, remote, r.target));
    ASSERT_EQ(r.scenarios.size(), 6u);
    for (const auto& s : r.scenarios) EXPECT_DOUBLE_EQ(s.thresholds.hi, r.max_softmax.threshold);
}

TEST(DecisionModules, LogisticSaysWrongMoreOftenWhenTheTopProbabilityIsLow) {
    hi::LocalPredictions p;
    // Confident samples are right, unsure ones wrong: the fitted P(wrong) must fall with p1.
    for (int i = 0; i < 400; ++i) {
        std::vector<float> logits(hi::class_count, 0.0f);
        const bool sure = i % 2 == 0;
        logits[0] = sure ? 6.0f + 0.01f * i : 0.5f + 0.001f * i;
        logits[1] = sure ? 0.0f : 0.4f;
        p.logits.insert(p.logits.end(), logits.begin(), logits.end());
        p.labels.push_back(sure || i % 8 == 1 ? 0 : 1);
    }
    const hi::Top2LogisticModule m = hi::fit_top2_logistic(p);
    EXPECT_LT(m.p_wrong(&p.logits[0]), 0.5);
    EXPECT_GT(m.p_wrong(&p.logits[hi::class_count]), 0.5);
}

TEST(DecisionModules, TuneThresholdOffloadsTheLeastConfidentFirst) {
    const std::vector<double> score{0.9, 0.2, 0.5, 0.8};
    const std::vector<bool> local{true, false, false, true}, remote{true, true, true, true};
    EXPECT_DOUBLE_EQ(hi::tune_threshold(score, local, remote, 0.5), 0.2);   // nothing to offload
    EXPECT_DOUBLE_EQ(hi::tune_threshold(score, local, remote, 0.75), 0.5);  // offload the 0.2 sample
    EXPECT_DOUBLE_EQ(hi::tune_threshold(score, local, remote, 1.0), 0.8);   // and the 0.5 one
    EXPECT_TRUE(std::isinf(hi::tune_threshold(score, local, {false, false, false, false}, 1.0)));
}

}  // namespace
}  // namespace hiro::test
