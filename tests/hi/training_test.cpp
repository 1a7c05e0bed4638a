// Training with ggml-opt on real Fashion-MNIST images: the loss falls, the
// stored int8 model is what it says, and the tiny model is below the remote one.
#include <gtest/gtest.h>

#include <cmath>

#include "hi/decision_modules.h"
#include "hi/inference.h"
#include "hi/trainer.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

struct Data {
    hi::FashionMnist all = hi::load_fashion_mnist(hi::default_fashion_mnist_dir, 6000, 7);
    hi::ImageSet train = all.train.head(10000);
};

const Data& data() {
    static const Data d;
    return d;
}

double test_accuracy(const hi::Network& n) {
    const hi::LocalPredictions p{hi::predict(n, data().all.test, hi::Head::final, 1), data().all.test.labels};
    double c = 0;
    for (std::size_t i = 0; i < p.size(); ++i) c += p.correct(i);
    return c / static_cast<double>(p.size());
}

TEST(Training, ReducesTheLoss) {
    hi::Network tiny = hi::Network::initialise(hi::tiny_spec(), 7);
    const hi::TrainReport r = hi::train(tiny, data().train.head(3000), {3, 100, 2e-3f, hi::Head::final, 1});
    ASSERT_EQ(r.epoch_loss.size(), 3u);
    EXPECT_LT(r.epoch_loss[2], r.epoch_loss[0]);
    EXPECT_LT(r.epoch_loss[2], std::log(10.0));  // better than guessing among 10 classes
}

TEST(Training, TinyModelIsBelowTheRemoteModelOnTheTestSplit) {
    TempDir tmp;
    hi::Network tiny = hi::Network::initialise(hi::tiny_spec(), 7);
    hi::Network remote = hi::Network::initialise(hi::remote_spec(), 8);
    hi::train(tiny, data().train, {1, 100, 2e-3f, hi::Head::final, 1});
    hi::train(remote, data().train, {1, 100, 2e-3f, hi::Head::final, 1});
    // As deployed: through the GGUF file, where the tiny model's dense weights are 8-bit.
    tiny.save(tmp.file("tiny.gguf"));
    remote.save(tmp.file("remote.gguf"));
    const hi::Network tiny_stored = hi::Network::load(tmp.file("tiny.gguf"));
    const hi::Network remote_stored = hi::Network::load(tmp.file("remote.gguf"));
    const double tiny_acc = test_accuracy(tiny_stored), remote_acc = test_accuracy(remote_stored);
    EXPECT_GT(tiny_acc, 0.5);
    EXPECT_LT(tiny_acc + 0.02, remote_acc);
    // Sized for a microcontroller: a few thousand weights, the 128x10 classifier in q8_0.
    EXPECT_LT(tiny_stored.parameter_count(), 5000);
    EXPECT_LT(tiny_stored.weight_bytes(), static_cast<std::size_t>(tiny_stored.parameter_count()) * 4);
    EXPECT_GT(remote_stored.parameter_count(), 20 * tiny_stored.parameter_count());
}

TEST(Training, ExitHeadLearnsOnAFrozenBackbone) {
    hi::Network tiny = hi::Network::initialise(hi::tiny_spec(), 7);
    hi::train(tiny, data().train.head(5000), {1, 100, 2e-3f, hi::Head::final, 1});
    hi::Network ee = tiny.with_exit_head(hi::early_exit_spec(), 9);
    const auto before = hi::predict(ee, data().all.test.head(500), hi::Head::final, 1);
    const hi::TrainReport r = hi::train(ee, data().train.head(5000), {2, 100, 2e-3f, hi::Head::exit, 1});
    EXPECT_LT(r.epoch_loss[1], r.epoch_loss[0]);
    // Only the exit head moved: the final head answers exactly as before.
    EXPECT_EQ(hi::predict(ee, data().all.test.head(500), hi::Head::final, 1), before);
    EXPECT_LT(ee.macs(hi::Head::exit), ee.macs(hi::Head::final));
}

}  // namespace
}  // namespace hiro::test
