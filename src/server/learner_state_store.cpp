#include "server/learner_state_store.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hiro::server {

using core::Error;
using core::ErrorCode;

LearnerStateStore::LearnerStateStore(std::string route, const TuningSettings& settings, std::shared_ptr<RedisConnections> redis)
    : route_(std::move(route)), file_(settings.state_file), key_("hiro:learner:" + route_),
      redis_(settings.state_in_redis ? std::move(redis) : nullptr) {}

std::string LearnerStateStore::where() const { return redis_ ? redis_->address().url + " key " + key_ : file_; }

std::optional<core::Json> LearnerStateStore::load_file() const {
    if (file_.empty() || !std::filesystem::exists(file_)) return std::nullopt;
    std::ifstream in(file_);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw Error(ErrorCode::io, "policy '" + route_ + "': cannot read its learner state " + file_);
    core::Json state = core::Json::parse(text.str(), nullptr, false);
    if (state.is_discarded()) {
        throw Error(ErrorCode::invalid_input, "policy '" + route_ + "': its learner state " + file_ + " is not JSON; delete it to start from the config");
    }
    return state;
}

Task<std::optional<core::Json>> LearnerStateStore::load_redis() const {
    std::vector<std::string> get{"GET", key_};
    const core::Json reply = co_await (co_await redis_->here())->call(std::move(get));
    if (reply.is_null()) co_return std::nullopt;
    core::Json state = core::Json::parse(reply.get<std::string>(), nullptr, false);
    if (state.is_discarded()) throw StoreUnavailable(where() + " holds no JSON; delete the key to start from the config");
    co_return state;
}

Task<void> LearnerStateStore::save(core::Json state) const {
    const std::string text = state.dump();
    if (redis_) {
        std::vector<std::string> set{"SET", key_, text};
        co_await (co_await redis_->here())->call(std::move(set));
        co_return;
    }
    const std::string partial = file_ + ".partial";
    {
        std::ofstream out(partial, std::ios::trunc);
        out << text;
        if (!out.flush()) throw Error(ErrorCode::io, "cannot write " + partial);
    }
    std::error_code ec;
    std::filesystem::rename(partial, file_, ec);
    if (ec) throw Error(ErrorCode::io, "cannot rename " + partial + " to " + file_ + ": " + ec.message());
}

}  // namespace hiro::server
