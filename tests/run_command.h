#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace hiro::test {

struct CommandResult {
    int exit_code = -1;
    std::string out;  // stdout and stderr, interleaved
};

// Runs a shell command and captures what it prints.
inline CommandResult run_command(const std::string& command) {
    CommandResult result;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return result;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.out.append(buf.data(), n);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

inline std::string hiro(const std::string& args) { return std::string(HIRO_EXECUTABLE) + " " + args; }

}  // namespace hiro::test
