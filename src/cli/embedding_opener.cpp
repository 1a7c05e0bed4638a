#include "cli/embedding_opener.h"

#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <mutex>

#include "engine/engine.h"
#include "policy/feature_extractor.h"

namespace hiro::cli {

void register_engine_embedder() {
    policy::set_embedder_opener([](const std::string& path) {
        static std::mutex mutex;
        static std::map<std::string, std::shared_ptr<const engine::Engine>> loaded;
        std::shared_ptr<const engine::Engine> engine;
        {
            std::lock_guard lock(mutex);
            auto& slot = loaded[path];
            if (!slot) {
                slot = std::make_shared<const engine::Engine>(engine::ModelOptions{.path = path});
                spdlog::info("router features: embedding model {} ({} values per prompt)", path, slot->embedding_size());
            }
            engine = slot;
        }
        return policy::Embedder{[engine](std::string_view text) { return engine->embed(text); }, engine->embedding_size()};
    });
}

}  // namespace hiro::cli
