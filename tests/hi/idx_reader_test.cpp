// The IDX reader on the files of Debian's dataset-fashion-mnist, and on broken copies of them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <set>

#include "core/error.h"
#include "hi/fashion_mnist.h"
#include "hi/idx_reader.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

const std::string dir = hi::default_fashion_mnist_dir;

template <class F>
core::Error error_of(F f) {
    try {
        f();
    } catch (const core::Error& e) {
        return e;
    }
    ADD_FAILURE() << "no error thrown";
    return core::Error(core::ErrorCode::internal, "");
}

TEST(IdxReader, ReadsThePackagedFashionMnist) {
    const hi::IdxArray images = hi::read_idx(dir + "/t10k-images-idx3-ubyte.gz");
    EXPECT_EQ(images.dims, (std::vector<std::uint32_t>{10000, 28, 28}));
    EXPECT_EQ(images.values.size(), 10000u * 784u);
    const hi::IdxArray labels = hi::read_idx(dir + "/train-labels-idx1-ubyte.gz");
    EXPECT_EQ(labels.dims, (std::vector<std::uint32_t>{60000}));
    std::set<int> classes(labels.values.begin(), labels.values.end());
    EXPECT_EQ(classes.size(), 10u);
    // Fashion-MNIST's first training image is an ankle boot (class 9).
    EXPECT_EQ(labels.values[0], 9);
}

TEST(IdxReader, MissingFileSaysHowToInstallIt) {
    const auto e = error_of([] { hi::read_idx("/nonexistent/t10k-images-idx3-ubyte.gz"); });
    EXPECT_EQ(e.code(), core::ErrorCode::not_found);
    EXPECT_THAT(e.what(), HasSubstr("apt-get install dataset-fashion-mnist"));
}

TEST(IdxReader, TruncatedFileIsAnErrorNotShortData) {
    TempDir tmp;
    const hi::IdxArray labels = hi::read_idx(dir + "/t10k-labels-idx1-ubyte.gz");
    // The header promises 10,000 labels; write only 5,000 of them.
    const std::string path = tmp.file("t10k-labels-idx1-ubyte.gz");
    gzFile f = gzopen(path.c_str(), "wb");
    const unsigned char header[8] = {0, 0, 8, 1, 0, 0, 0x27, 0x10};
    gzwrite(f, header, 8);
    gzwrite(f, labels.values.data(), 5000);
    gzclose(f);
    const auto e = error_of([&] { hi::read_idx(path); });
    EXPECT_EQ(e.code(), core::ErrorCode::invalid_input);
    EXPECT_THAT(e.what(), HasSubstr("is truncated: expected 10000 bytes of data, got 5000"));
}

TEST(IdxReader, WrongMagicNumberIsAnError) {
    TempDir tmp;
    const std::string path = tmp.file("not-idx");
    std::ofstream(path) << "{\"this\": \"is json\"}";
    const auto e = error_of([&] { hi::read_idx(path); });
    EXPECT_EQ(e.code(), core::ErrorCode::invalid_input);
    EXPECT_THAT(e.what(), HasSubstr("not an IDX file"));
}

TEST(FashionMnist, ValidationIsCarvedFromTheTrainingFileAndDisjoint) {
    const hi::FashionMnist data = hi::load_fashion_mnist(dir, 6000, 7);
    EXPECT_EQ(data.train.size(), 54000u);
    EXPECT_EQ(data.validation.size(), 6000u);
    EXPECT_EQ(data.test.size(), 10000u);
    std::set<std::size_t> train(data.train.source_index.begin(), data.train.source_index.end());
    for (auto i : data.validation.source_index) EXPECT_FALSE(train.contains(i));
    EXPECT_EQ(train.size() + data.validation.size(), 60000u);
    EXPECT_GE(*std::min_element(data.test.pixels.begin(), data.test.pixels.end()), 0.0f);
    EXPECT_LE(*std::max_element(data.test.pixels.begin(), data.test.pixels.end()), 1.0f);
}

}  // namespace
}  // namespace hiro::test
