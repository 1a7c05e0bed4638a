#include "server/shared_breakers.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hiro::server {
namespace {

namespace asio = boost::asio;

std::string breaker_key(const std::string& tier) { return "hiro:breaker:" + tier; }

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

SharedBreakers::SharedBreakers(std::shared_ptr<RedisConnections> redis, std::map<std::string, GuardedTier*> tiers)
    : redis_(std::move(redis)), tiers_(std::move(tiers)) {}

void SharedBreakers::start(const asio::any_io_executor& executor) {
    asio::co_spawn(executor, poll(), asio::detached);
}

void SharedBreakers::publish(const asio::any_io_executor& executor, const std::string& tier, std::chrono::milliseconds cooldown) {
    asio::co_spawn(executor, set(tier, cooldown), asio::detached);
}

Task<void> SharedBreakers::set(std::string tier, std::chrono::milliseconds cooldown) {
    std::vector<std::string> command{"SET", breaker_key(tier), std::to_string(unix_ms() + cooldown.count()), "PX", std::to_string(cooldown.count())};
    try {
        co_await (co_await redis_->here())->call(std::move(command));
    } catch (const StoreUnavailable& e) {
        spdlog::warn("tier '{}' opened its circuit here, but the other replicas cannot be told: {}", tier, e.what());
    }
}

Task<void> SharedBreakers::poll() {
    std::vector<std::string> command{"MGET"};
    for (const auto& [name, _] : tiers_) command.push_back(breaker_key(name));
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        core::Json open;
        try {
            open = co_await (co_await redis_->here())->call(command);
        } catch (const StoreUnavailable&) {
            // The limits report Redis's state; breakers stay as this replica sees them.
        }
        auto tier = tiers_.begin();
        for (std::size_t i = 0; open.is_array() && i < open.size() && tier != tiers_.end(); ++i, ++tier) {
            if (!open[i].is_string()) continue;
            const std::int64_t left_ms = std::strtoll(open[i].get<std::string>().c_str(), nullptr, 10) - unix_ms();
            if (left_ms > 0) tier->second->hold_open(std::chrono::steady_clock::now() + std::chrono::milliseconds(left_ms));
        }
        timer.expires_after(std::chrono::milliseconds(250));
        co_await timer.async_wait(asio::use_awaitable);
    }
}

}  // namespace hiro::server
