#include "server/access_log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "core/error.h"

namespace hiro::server {

AccessLog::AccessLog(AccessLogSettings settings) : settings_(std::move(settings)) {
    if (settings_.path.empty()) return;
    static std::atomic<int> count{0};
    const std::string name = "access-" + std::to_string(count++);
    static std::once_flag pool;
    std::call_once(pool, [] { spdlog::init_thread_pool(8192, 1); });
    try {
        logger_ = settings_.path == "stderr" ? spdlog::stderr_logger_mt<spdlog::async_factory>(name)
                                             : spdlog::basic_logger_mt<spdlog::async_factory>(name, settings_.path);
    } catch (const spdlog::spdlog_ex& e) {
        throw core::Error(core::ErrorCode::io, "access_log: cannot open " + settings_.path + ": " + e.what());
    }
    logger_->set_pattern("%v");
    logger_->flush_on(spdlog::level::info);
}

AccessLog::~AccessLog() {
    if (logger_) spdlog::drop(logger_->name());
}

void AccessLog::write(const core::Json& entry) {
    if (logger_) logger_->info(entry.dump(-1, ' ', false, core::Json::error_handler_t::replace));
}

}  // namespace hiro::server
