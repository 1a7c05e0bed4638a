#pragma once

#include <memory>
#include <optional>
#include <stop_token>

#include <boost/asio/thread_pool.hpp>

#include "backends/tier.h"
#include "core/price_table.h"
#include "engine/engine.h"

namespace hiro::backends {

struct LocalTierOptions {
    std::string name;                        // how policies and outcome files call this tier
    std::optional<core::TokenPrice> price;   // fills Answer::cost_usd
    double joules_per_token = 0.0;           // energy per prompt + generated token, when known
    double watts = 0.0;                      // or the device's power draw while generating (energy = W x latency)
    int slots = 0;                           // requests decoded at once; 0 = the engine's sequences
    core::Json defaults = core::Json::object();  // request fields the config sets where the client did not
};

// A tier answered by the in-process llama.cpp engine. Decoding is compute,
// so it runs on a bounded pool of `slots` threads (one request each, decoded
// together in the engine's batch, see engine::Engine), never on an I/O thread; tokens travel
// back to the awaiting coroutine as they come. A cancelled caller stops its
// decode. Thread-safe.
class LocalTier final : public Tier {
public:
    LocalTier(std::shared_ptr<engine::Engine> engine, LocalTierOptions options);
    ~LocalTier() override;

    const std::string& name() const override { return options_.name; }
    Task<core::Answer> generate(const core::Query& query, const AskOptions& options) override;
    Task<std::string> embed(const core::Json& request) override;
    int capacity() const override { return slots_; }
    void stop() override;
    engine::Engine& engine() const { return *engine_; }

private:
    std::shared_ptr<engine::Engine> engine_;
    LocalTierOptions options_;
    int slots_;
    boost::asio::thread_pool compute_;
    std::stop_source shutdown_;  // stops every decode when the tier goes away
};

}  // namespace hiro::backends
