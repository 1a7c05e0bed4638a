#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/outcome.h"

namespace hiro::core {

// List prices in USD per 1M tokens.
struct TokenPrice {
    double input_per_million = 0.0;
    double output_per_million = 0.0;

    double cost(std::int64_t tokens_in, std::int64_t tokens_out) const {
        return (static_cast<double>(tokens_in) * input_per_million + static_cast<double>(tokens_out) * output_per_million) / 1e6;
    }
};

// A YAML price table:
//   models:
//     gemini-1.5-pro: {input: 1.25, output: 5.00}   # USD per 1M tokens
struct PriceTable {
    std::map<std::string, TokenPrice, std::less<>> models;

    std::optional<TokenPrice> find(std::string_view model) const;
};

PriceTable load_price_table(const std::string& path);

// Fills cost_usd from token counts (missing counts are 0) wherever a record
// has none and the table prices the model. Recorded costs are kept as they are.
void apply_prices(OutcomeSet& set, const PriceTable& prices);

}  // namespace hiro::core
