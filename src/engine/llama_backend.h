#pragma once

namespace hiro::engine {

// Initialises llama.cpp's backends once per process and routes its log lines
// to spdlog at debug level (hiro reports failures as core::Error; `-v` shows
// llama.cpp's own account).
void ensure_llama_backend();

}  // namespace hiro::engine
