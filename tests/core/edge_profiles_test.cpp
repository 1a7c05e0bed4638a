#include "core/edge_profiles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "test_paths.h"

namespace hiro::core {
namespace {

using ::testing::HasSubstr;

TEST(EdgeProfiles, ShippedProfilesNameTheirSources) {
    const EdgeProfiles p = load_edge_profiles(std::string(HIRO_SOURCE_DIR) + "/config/edge/profiles.yaml");
    for (const char* d : {"mcu", "pi", "jetson"}) EXPECT_FALSE(p.device(d).source.empty()) << d;
    for (const char* l : {"ble", "wifi", "lte", "5g"}) EXPECT_FALSE(p.link(l).source.empty()) << l;
    EXPECT_GE(p.scenarios.size(), 4u);
    // 784 bytes over 270 kbit/s BLE with 30 ms RTT and 1% loss.
    EXPECT_NEAR(p.link("ble").transfer_ms(784), (30 + 784 * 8 / 270e3 * 1e3) / 0.99, 1e-9);
}

TEST(EdgeProfiles, MeasuredTimesOverrideTheMacRate) {
    test::TempDir dir;
    const auto path = dir.file("p.yaml");
    std::ofstream(path) << "devices:\n  mcu: {source: bench, macs_per_second: 1e7, overhead_ms: 1, active_power_w: 0.01, idle_power_w: 0.01,"
                           " memory_bytes: 1e6, compute_ms: {tiny: 4.5}}\n";
    const DeviceProfile mcu = load_edge_profiles(path).device("mcu");
    EXPECT_DOUBLE_EQ(mcu.compute_ms("tiny", 1e5), 4.5);
    EXPECT_DOUBLE_EQ(mcu.compute_ms("remote", 1e6), 1.0 + 100.0);
}

TEST(EdgeProfiles, MissingSourceOrFigureIsAnErrorNamingTheEntry) {
    test::TempDir dir;
    const auto path = dir.file("p.yaml");
    std::ofstream(path) << "devices:\n  mcu: {macs_per_second: 1e7, active_power_w: 0.01, idle_power_w: 0.01, memory_bytes: 1e6}\n";
    try {
        load_edge_profiles(path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_input);
        EXPECT_THAT(e.what(), HasSubstr("devices.mcu: source is missing"));
    }
    std::ofstream(path) << "links:\n  ble: {source: me, uplink_bps: 0, rtt_ms: 30, tx_joule_per_byte: 1e-7}\n";
    try {
        load_edge_profiles(path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("links.ble: uplink_bps must be > 0"));
    }
}

}  // namespace
}  // namespace hiro::core
