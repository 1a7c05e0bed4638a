#pragma once

#include <memory>
#include <optional>

#include "backends/tier.h"
#include "core/price_table.h"
#include "engine/engine.h"

namespace hiro::backends {

struct LocalTierOptions {
    std::string name;                        // how policies and outcome files call this tier
    std::optional<core::TokenPrice> price;   // fills Answer::cost_usd
    double joules_per_token = 0.0;           // energy per prompt + generated token, when known
    double watts = 0.0;                      // or the device's power draw while generating (energy = W x latency)
};

// A tier answered by the in-process llama.cpp engine. Thread-safe: each call
// decodes in its own context (see engine::Engine).
class LocalTier final : public Tier {
public:
    LocalTier(std::shared_ptr<engine::Engine> engine, LocalTierOptions options);

    const std::string& name() const override { return options_.name; }
    core::Answer generate(const core::Query& query, const TokenSink& on_token, std::stop_token stop) override;
    engine::Engine& engine() const { return *engine_; }

private:
    std::shared_ptr<engine::Engine> engine_;
    LocalTierOptions options_;
};

}  // namespace hiro::backends
