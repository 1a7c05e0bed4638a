#include "bench/machine_meters.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bench/engine_bench.h"
#include "core/error.h"
#include "test_paths.h"

namespace hiro::bench {
namespace {

void write_zone(const test::TempDir& dir, const std::string& zone, std::uint64_t energy, std::uint64_t range) {
    std::filesystem::create_directories(dir.file(zone));
    std::ofstream(dir.file(zone + "/energy_uj")) << energy << "\n";
    std::ofstream(dir.file(zone + "/max_energy_range_uj")) << range << "\n";
}

TEST(Rapl, SumsPackagesAndSurvivesCounterWrap) {
    test::TempDir before, after;
    write_zone(before, "intel-rapl:0", 1'000'000, 10'000'000);
    write_zone(before, "intel-rapl:0:0", 999, 10'000'000);  // a sub-zone (core): inside package 0, not added
    write_zone(before, "intel-rapl:1", 9'500'000, 10'000'000);
    write_zone(after, "intel-rapl:0", 3'000'000, 10'000'000);
    write_zone(after, "intel-rapl:0:0", 5'000, 10'000'000);
    write_zone(after, "intel-rapl:1", 500'000, 10'000'000);  // wrapped
    const auto b = read_rapl(before.file("")), a = read_rapl(after.file(""));
    ASSERT_TRUE(b && a);
    EXPECT_EQ(b->zones.size(), 2u);
    EXPECT_DOUBLE_EQ(rapl_joules(*b, *a), 2.0 + 1.0);
}

TEST(Rapl, UnreadableOrMissingCountersAreNoReading) {
    EXPECT_FALSE(read_rapl("/nonexistent/powercap"));
    test::TempDir empty;
    EXPECT_FALSE(read_rapl(empty.file("")));
}

TEST(PeakRss, IsThisProcesssHighWaterMark) {
    const auto before = peak_rss_bytes();
    EXPECT_GT(before, 1 << 20);
    std::vector<char> big(64 << 20, 1);
    EXPECT_GE(peak_rss_bytes(), before + (60 << 20)) << static_cast<int>(big[12345]);
}

TEST(Statistics, SpreadAndPercentiles) {
    const Spread s = spread_of({1, 2, 3, 4});
    EXPECT_DOUBLE_EQ(s.mean, 2.5);
    EXPECT_NEAR(s.sd, 1.2909944, 1e-6);
    EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2, 5}, 50), 3);
    EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4, 5}, 95), 4.8);
}

}  // namespace
}  // namespace hiro::bench
