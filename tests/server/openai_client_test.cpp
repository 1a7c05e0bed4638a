// The official `openai` npm client against a real hiro in front of a real llama-server.
#include <gmock/gmock.h>

#include <filesystem>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

TEST_F(GatewayTest, OfficialOpenAIClientSpeaksToHiro) {
    const std::string node_dir = std::string(HIRO_SOURCE_DIR) + "/tests/node";
    ASSERT_TRUE(std::filesystem::exists(node_dir + "/node_modules/openai"))
        << "the openai npm package is missing: run scripts/setup (or npm ci in tests/node)";
    ::setenv("HIRO_TEST_API_KEY", "sk-node-test", 1);
    const int tool = start_fake({"tool"});
    start_hiro("api_keys: [{name: node, key_env: HIRO_TEST_API_KEY}]\ntiers:\n" + llama_tier("edge") + llama_tier("cloud") +
               tier_at("caller", tool) + "policies:\n  - {name: hiro-cascade, kind: cascade, tiers: [edge, cloud], thresholds: [0]}\n");
    const auto r = run_command("cd " + node_dir + " && HIRO_BASE_URL=" + url("/v1") +
                               " HIRO_API_KEY=sk-node-test node --test openai_client.test.mjs");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, ::testing::HasSubstr("# pass 12"));
}

}  // namespace
}  // namespace hiro::test
