#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <thread>

#include "child_process.h"
#include "run_command.h"

namespace hiro::test {

// A real redis-server (Debian's) on a loopback port, without persistence:
// killed and restarted on the same port it comes back empty, as a Redis
// that lost its memory does.
class RedisProcess {
public:
    RedisProcess() : port_(free_port()) { start(); }

    int port() const { return port_; }
    std::string url(int db = 0) const { return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db); }

    void start() {
        process_ = std::make_unique<ChildProcess>(std::vector<std::string>{HIRO_REDIS_SERVER, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                                                           "--save", "", "--appendonly", "no"});
        for (int i = 0; i < 200 && cli("PING") != "PONG\n"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    void kill() { process_->stop(SIGKILL, std::chrono::seconds(5)); }
    void pause() { ::kill(pid(), SIGSTOP); }
    void resume() { ::kill(pid(), SIGCONT); }

    // redis-cli's answer to one command, e.g. cli("ZCARD k").
    std::string cli(const std::string& command) const {
        return run_command("redis-cli -p " + std::to_string(port_) + " " + command).out;
    }

private:
    pid_t pid() const { return process_->pid(); }
    int port_;
    std::unique_ptr<ChildProcess> process_;
};

}  // namespace hiro::test
