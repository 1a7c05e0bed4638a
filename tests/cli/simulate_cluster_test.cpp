// `hiro simulate cluster` as a user runs it: the real binary, JSON on stdout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::HasSubstr;

TEST(SimulateCluster, ReportsEveryLoadLevelAsJson) {
    const auto r = run_command(hiro("simulate cluster --endpoints 3 --slots 1 --service-ms 1000 --cloud-ms 800 --deadline-ms 2000 --cloud-usd 0.01 --json -"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    EXPECT_EQ(j["endpoints"], 3);
    EXPECT_EQ(j["slots"], 1);
    EXPECT_EQ(j["deadline_ms"], 2000.0);
    EXPECT_DOUBLE_EQ(j["capacity_per_s"].get<double>(), 3.0);
    ASSERT_EQ(j["levels"].size(), 5u);  // the default capacity multiples 0.25 .. 4
    EXPECT_DOUBLE_EQ(j["levels"][0]["load"].get<double>(), 0.25);
    EXPECT_DOUBLE_EQ(j["levels"][4]["rate_per_s"].get<double>(), 12.0);
    for (const auto& level : j["levels"]) {
        EXPECT_EQ(level["requests"], 2000);
        EXPECT_LE(level["latency_ms"]["p50"].get<double>(), level["latency_ms"]["p95"].get<double>());
        EXPECT_LE(level["latency_ms"]["p95"].get<double>(), 3000.0);
        EXPECT_NEAR(level["usd_per_1k_requests"].get<double>(), level["cloud_share"].get<double>() * 10.0, 1e-9);
        EXPECT_TRUE(level.contains("mmc_cloud_share"));
        EXPECT_TRUE(level.contains("edge_utilisation"));
        EXPECT_TRUE(level.contains("edge_wait_ms"));
    }
    EXPECT_GT(j["levels"][4]["cloud_share"].get<double>(), 0.7);
}

TEST(SimulateCluster, TableTimesFileRatesAndPlot) {
    TempDir dir;
    std::ofstream(dir.file("service.txt")) << "# answer times of one llama-server\n600\n1000\n1400\n";
    const auto r = run_command(hiro("simulate cluster --service " + dir.file("service.txt") + " --slots 2 --rates 1,4 --requests 500 --plot " +
                                    dir.file("cluster.svg")));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("3 endpoints x 2 slots, edge service 1000 ms mean (capacity 6 req/s)"));
    EXPECT_THAT(r.out, HasSubstr("no deadline"));
    EXPECT_THAT(r.out, HasSubstr("M/M/c"));
    const std::string svg = read_text(dir.file("cluster.svg"));
    EXPECT_THAT(svg, HasSubstr("<svg"));
    EXPECT_THAT(svg, HasSubstr("cloud share (simulated)"));
}

TEST(SimulateCluster, ErrorsNameTheFileOrOption) {
    TempDir dir;
    std::ofstream(dir.file("bad.txt")) << "1000\nfast\n";
    auto r = run_command(hiro("simulate cluster --service " + dir.file("bad.txt")));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, HasSubstr(dir.file("bad.txt") + " line 2: 'fast' is not a number"));
    r = run_command(hiro("simulate cluster --service /nonexistent.txt"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, HasSubstr("cannot open /nonexistent.txt"));
    struct Case {
        std::string args;
        std::string says;
    };
    const std::vector<Case> usage_errors = {
        {"", "--service FILE or --service-ms X"},
        {"--service-ms 1000 --deadline-ms 2000", "--cloud FILE or --cloud-ms X"},
        {"--service-ms 0", "--service-ms must be positive"},
        {"--service-ms 1000 --endpoints 0", "--endpoints must be at least 1"},
        {"--service-ms 1000 --rates 1,-2", "--rates takes positive numbers (got -2)"},
    };
    for (const auto& c : usage_errors) {
        r = run_command(hiro("simulate cluster " + c.args));
        EXPECT_EQ(r.exit_code, 2) << c.args;
        EXPECT_THAT(r.out, HasSubstr(c.says)) << c.args;
    }
}

}  // namespace
}  // namespace hiro::test
