#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>
#include <thread>

#include "child_process.h"
#include "run_command.h"

namespace hiro::test {

// A real redis-server (Debian's) on a loopback port, without persistence:
// killed and restarted on the same port it comes back empty, as a Redis
// that lost its memory does.
class RedisProcess {
public:
    // extra: more redis-server options, e.g. {"--requirepass", "s3cret"}.
    explicit RedisProcess(std::vector<std::string> extra = {}) : port_(free_port()), extra_(std::move(extra)) { start(); }

    int port() const { return port_; }
    std::string url(int db = 0) const { return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db); }

    void start() {
        std::vector<std::string> args{HIRO_REDIS_SERVER, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"};
        args.insert(args.end(), extra_.begin(), extra_.end());
        process_ = std::make_unique<ChildProcess>(args);
        auto answers = [&] {  // PONG, or NOAUTH from a Redis that wants a password: either way it is up
            const std::string out = cli("PING");
            return out.find("PONG") != std::string::npos || out.find("NOAUTH") != std::string::npos;
        };
        for (int i = 0; i < 200 && !answers(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
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
    std::vector<std::string> extra_;
    std::unique_ptr<ChildProcess> process_;
};

}  // namespace hiro::test
