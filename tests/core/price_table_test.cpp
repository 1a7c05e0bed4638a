#include "core/price_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "core/outcome_reader.h"
#include "test_paths.h"

namespace hiro::core {
namespace {

using ::testing::HasSubstr;

TEST(PriceTable, PricesTokensWhereTheFileHasNoCost) {
    OutcomeSet set = read_outcomes(test::outcome_file("mmlupro_9models.jsonl"));
    const std::size_t pro = set.model_index("gemini-1.5-pro");
    EXPECT_FALSE(set.has_cost(pro));
    apply_prices(set, load_price_table(std::string(HIRO_SOURCE_DIR) + "/config/prices/mmlupro_9models.yaml"));
    for (std::size_t m = 0; m < set.models.size(); ++m) EXPECT_TRUE(set.has_cost(m)) << set.models[m];
    // tokens_out only: cost = tokens_out x output price / 1e6.
    const auto& o = set.records[0].models[pro];
    EXPECT_NEAR(*o.cost_usd, static_cast<double>(*o.tokens_out) * 5.00 / 1e6, 1e-12);
}

TEST(PriceTable, KeepsRecordedCosts) {
    OutcomeSet set = read_outcomes(test::outcome_file("mmlu_llama_train.jsonl"));
    const double before = *set.records[0].models[0].cost_usd;
    PriceTable table;
    table.models["llama3.2-1b"] = {1000.0, 1000.0};
    apply_prices(set, table);
    EXPECT_DOUBLE_EQ(*set.records[0].models[0].cost_usd, before);
}

TEST(PriceTable, BadTablesSayWhatIsWrong) {
    test::TempDir dir;
    auto error_of = [&](const std::string& yaml) -> std::string {
        const auto path = dir.file("p.yaml");
        std::ofstream(path) << yaml;
        try {
            load_price_table(path);
        } catch (const Error& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_THAT(error_of("models: {a: {input: 1}}"), HasSubstr("models.a.output is missing"));
    EXPECT_THAT(error_of("models: {a: {input: cheap, output: 1}}"), HasSubstr("models.a.input must be a number"));
    EXPECT_THAT(error_of("prices: {}"), HasSubstr("expected a map 'models:"));
    EXPECT_THAT(error_of("models: [unclosed"), HasSubstr("not valid YAML"));
    EXPECT_THAT(error_of("models: {a: {input: -1, output: 1}}"), HasSubstr("must be >= 0"));
    try {
        load_price_table(dir.file("missing.yaml"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::not_found);
    }
}

}  // namespace
}  // namespace hiro::core
