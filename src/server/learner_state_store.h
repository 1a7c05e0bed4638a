#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/openai_response.h"
#include "server/gateway_config.h"
#include "server/redis_connection.h"

namespace hiro::server {

// Where an adaptive cascade's learned state persists, so that a restart
// resumes: a JSON file (written to a temporary file and renamed, so a crash
// never leaves half a state), or Redis under hiro:learner:ROUTE. Replicas
// sharing Redis each learn from their own traffic and save in turn (the last
// save wins); each starts from the last state saved.
class LearnerStateStore {
public:
    LearnerStateStore(std::string route, const TuningSettings& settings, std::shared_ptr<RedisConnections> redis);

    bool in_redis() const { return redis_ != nullptr; }
    std::string where() const;  // "FILE" or "redis://... key K", for messages

    // The file's saved state, nullopt when there is none yet; throws a
    // core::Error naming the file when it cannot be read or is not JSON.
    std::optional<core::Json> load_file() const;
    // Redis's saved state; nullopt when there is none. Throws StoreUnavailable.
    Task<std::optional<core::Json>> load_redis() const;
    // Throws core::Error (file) or StoreUnavailable (Redis) saying why it failed.
    Task<void> save(core::Json state) const;

private:
    std::string route_, file_, key_;
    std::shared_ptr<RedisConnections> redis_;
};

}  // namespace hiro::server
