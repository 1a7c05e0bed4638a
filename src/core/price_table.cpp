#include "core/price_table.h"

#include <yaml-cpp/yaml.h>

#include <fstream>

#include "core/error.h"

namespace hiro::core {

std::optional<TokenPrice> PriceTable::find(std::string_view model) const {
    auto it = models.find(model);
    if (it == models.end()) return std::nullopt;
    return it->second;
}

PriceTable load_price_table(const std::string& path) {
    if (!std::ifstream(path)) throw Error(ErrorCode::not_found, "cannot open price table " + path);
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        throw Error(ErrorCode::invalid_input, path + ": not valid YAML: " + e.what());
    }
    const YAML::Node models = root["models"];
    if (!models || !models.IsMap()) {
        throw Error(ErrorCode::invalid_input, path + ": expected a map 'models: {NAME: {input: USD_PER_1M, output: USD_PER_1M}}'");
    }
    PriceTable table;
    for (const auto& entry : models) {
        const auto name = entry.first.as<std::string>();
        const YAML::Node& price = entry.second;
        auto read = [&](const char* key) {
            const YAML::Node v = price[key];
            if (!v) throw Error(ErrorCode::invalid_input, path + ": models." + name + "." + key + " is missing");
            try {
                double d = v.as<double>();
                if (d < 0) throw Error(ErrorCode::invalid_input, path + ": models." + name + "." + key + " must be >= 0");
                return d;
            } catch (const YAML::Exception&) {
                throw Error(ErrorCode::invalid_input, path + ": models." + name + "." + key + " must be a number (USD per 1M tokens)");
            }
        };
        if (!price.IsMap()) throw Error(ErrorCode::invalid_input, path + ": models." + name + " must be a map {input: ..., output: ...}");
        table.models[name] = TokenPrice{read("input"), read("output")};
    }
    return table;
}

void apply_prices(OutcomeSet& set, const PriceTable& prices) {
    for (std::size_t m = 0; m < set.models.size(); ++m) {
        auto price = prices.find(set.models[m]);
        if (!price) continue;
        for (auto& r : set.records) {
            auto& o = r.models[m];
            if (!o.cost_usd) o.cost_usd = price->cost(o.tokens_in.value_or(0), o.tokens_out.value_or(0));
        }
    }
}

}  // namespace hiro::core
