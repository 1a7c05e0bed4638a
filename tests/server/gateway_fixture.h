#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "child_process.h"
#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {

// Real processes on free loopback ports: one llama-server (from the setup
// build) serving stories260K for the whole suite, and per test a hiro gateway
// and any misbehaving fake upstreams it needs.
class GatewayTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        llama_port_ = free_port();
        llama_ = std::make_unique<ChildProcess>(std::vector<std::string>{
            HIRO_LLAMA_SERVER, "-m", shared_model("stories260K.gguf"), "--host", "127.0.0.1", "--port", std::to_string(llama_port_),
            "-c", "2048", "-np", "4", "-t", "1", "--no-webui"});
        ASSERT_TRUE(llama_->wait_until_ok(base(llama_port_) + "/health")) << llama_->log();
    }
    static void TearDownTestSuite() { llama_.reset(); }

    static std::string base(int port) { return "http://127.0.0.1:" + std::to_string(port); }
    static std::string llama_url() { return base(llama_port_) + "/v1"; }

    // A tier block for an OpenAI-compatible server on a loopback port (a fake upstream, or nothing at all).
    static std::string tier_at(const std::string& name, int port, const std::string& extra = "") {
        return "  - {name: " + name + ", kind: openai, base_url: 'http://127.0.0.1:" + std::to_string(port) + "/v1'" + extra + "}\n";
    }

    // A file of JSON lines (what a recording fake upstream received, an access log).
    static std::vector<nlohmann::json> json_lines(const std::string& path) {
        std::vector<nlohmann::json> lines;
        std::ifstream in(path);
        for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
        return lines;
    }

    // A tier block for the llama-server upstream, greedy unless the client says otherwise.
    static std::string llama_tier(const std::string& name, const std::string& extra = "") {
        return "  - {name: " + name + ", kind: openai, base_url: '" + llama_url() + "', prices: {input: 1.0, output: 2.0}, defaults: {temperature: 0}" +
               extra + "}\n";
    }

    // Starts a fake upstream (see fake_upstream.cpp); returns its port.
    int start_fake(const std::vector<std::string>& mode) { return start_fake_on(free_port(), mode); }
    int start_fake_on(int port, const std::vector<std::string>& mode) {
        std::vector<std::string> args{HIRO_FAKE_UPSTREAM, std::to_string(port)};
        args.insert(args.end(), mode.begin(), mode.end());
        fakes_.push_back(std::make_unique<ChildProcess>(args));
        EXPECT_TRUE(fakes_.back()->wait_until_ok(base(port) + "/health")) << fakes_.back()->log();
        return port;
    }
    ChildProcess& fake(std::size_t i) { return *fakes_.at(i); }

    // Starts hiro serve with `body` (tiers, policies, limits ...) and waits until it is healthy.
    void start_hiro(const std::string& body) {
        hiro_port_ = free_port();
        config_path_ = dir_.file("gateway.yaml");
        const std::string config = "listen: 127.0.0.1:" + std::to_string(hiro_port_) + "\n" + body;
        std::ofstream(config_path_) << config;
        hiro_ = std::make_unique<ChildProcess>(std::vector<std::string>{HIRO_EXECUTABLE, "serve", "--config", config_path_});
        ASSERT_TRUE(hiro_->wait_until_ok(url("/health"))) << hiro_->log() << "\nconfig:\n" << config;
    }

    std::string url(const std::string& path) const { return base(hiro_port_) + path; }

    // A sample's value from hiro's /metrics, e.g. metric("hiro_inflight_requests"); -1 if absent.
    double metric(const std::string& sample) {
        const std::string text = get("/metrics").body;
        const auto at = text.find("\n" + sample + " ");
        return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 2));
    }

    // Polls `condition` every 50 ms for up to `timeout`.
    static bool eventually(const std::function<bool()>& condition, std::chrono::seconds timeout = std::chrono::seconds(30)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (condition()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return condition();
    }

    // curl -i: status line and headers, then the body.
    struct Reply {
        int status = 0;
        std::string headers;
        std::string body;
        nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
        std::string header(const std::string& name) const {
            auto at = headers.find("\n" + name + ": ");
            if (at == std::string::npos) return "";
            at += name.size() + 3;
            return headers.substr(at, headers.find('\r', at) - at);
        }
    };

    Reply post(const std::string& path, const std::string& body, const std::string& extra_curl = "") {
        const auto file = dir_.file("body.json");
        std::ofstream(file) << body;
        return request("-X POST -H 'Content-Type: application/json' --data-binary @" + file + " " + extra_curl + " " + url(path));
    }

    Reply get(const std::string& path) { return request(url(path)); }

    static Reply request(const std::string& curl_args) {
        const auto r = run_command("curl -s -i --max-time 60 " + curl_args);
        Reply reply;
        const auto split = r.out.find("\r\n\r\n");
        reply.headers = r.out.substr(0, split);
        reply.body = split == std::string::npos ? "" : r.out.substr(split + 4);
        if (r.out.rfind("HTTP/1.1 ", 0) == 0) reply.status = std::stoi(r.out.substr(9, 3));
        return reply;
    }

    static std::string chat(const std::string& model, int max_tokens, bool stream = false) {
        return nlohmann::json{{"model", model},
                              {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                              {"max_tokens", max_tokens},
                              {"stream", stream}}
            .dump();
    }

    static inline std::unique_ptr<ChildProcess> llama_;
    static inline int llama_port_ = 0;
    TempDir dir_;
    std::string config_path_;
    int hiro_port_ = 0;
    std::unique_ptr<ChildProcess> hiro_;
    std::vector<std::unique_ptr<ChildProcess>> fakes_;
};

// Reads a curl -N stream line by line as it arrives.
class StreamReader {
public:
    explicit StreamReader(const std::string& curl_args) : pipe_(popen(("curl -s -N --max-time 60 " + curl_args).c_str(), "r")) {}
    ~StreamReader() {
        if (pipe_) pclose(pipe_);
    }
    // The next "data: ..." payload; false at the end of the stream.
    bool next(std::string& data) {
        char line[65536];
        while (pipe_ && fgets(line, sizeof line, pipe_)) {
            std::string l(line);
            while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
            if (l.rfind("data: ", 0) == 0) {
                data = l.substr(6);
                return true;
            }
        }
        return false;
    }

private:
    FILE* pipe_;
};

}  // namespace hiro::test
