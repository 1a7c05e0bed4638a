#include "engine/llama_backend.h"

#include <llama.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <string_view>

namespace hiro::engine {
namespace {

void log_to_spdlog(ggml_log_level, const char* text, void*) {
    std::string_view line(text);
    while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty()) spdlog::debug("llama.cpp: {}", line);
}

}  // namespace

void ensure_llama_backend() {
    static std::once_flag once;
    std::call_once(once, [] {
        llama_log_set(log_to_spdlog, nullptr);
        llama_backend_init();
    });
}

}  // namespace hiro::engine
