#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hiro::bench {

// llama.cpp's llama-server as a reference for hiro's engine: started on a
// free loopback port with the given arguments (after -m MODEL --port P),
// ready once /health answers 200, killed and reaped on destruction.
class LlamaServerProcess {
public:
    // Throws not_found for a missing binary and upstream (with the server's
    // last output) when it exits or is not ready within two minutes.
    LlamaServerProcess(const std::string& binary, const std::string& model, const std::vector<std::string>& args);
    ~LlamaServerProcess();
    LlamaServerProcess(const LlamaServerProcess&) = delete;
    LlamaServerProcess& operator=(const LlamaServerProcess&) = delete;

    // POSTs a JSON body and returns the JSON answer; blocking, thread-safe
    // (one connection per call). Throws upstream on a non-200 answer.
    nlohmann::json post(const std::string& target, const nlohmann::json& body) const;

    // CPU time the server has used so far, in seconds (/proc/PID/stat).
    double cpu_seconds() const;

private:
    int get_status(const std::string& target) const;
    std::string log_tail() const;

    int port_ = 0;
    pid_t pid_ = -1;
    std::filesystem::path log_;
};

}  // namespace hiro::bench
