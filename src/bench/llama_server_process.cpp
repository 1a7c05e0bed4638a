#include "bench/llama_server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/error.h"

extern char** environ;

namespace hiro::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) throw core::Error(core::ErrorCode::io, "cannot find a free loopback port for llama-server");
    return ntohs(addr.sin_port);
}

// One request on a fresh connection: status and body.
std::pair<int, std::string> exchange(int port, http::verb verb, const std::string& target, const std::string& body) {
    boost::asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    http::request<http::string_body> request(verb, target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (verb == http::verb::post) {
        request.set(http::field::content_type, "application/json");
        request.body() = body;
        request.prepare_payload();
    }
    http::write(socket, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket, buffer, parser);
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    return {static_cast<int>(parser.get().result_int()), parser.get().body()};
}

}  // namespace

LlamaServerProcess::LlamaServerProcess(const std::string& binary, const std::string& model, const std::vector<std::string>& args) {
    if (!std::filesystem::is_regular_file(binary)) {
        throw core::Error(core::ErrorCode::not_found, "llama-server not found at " + binary + " (pass --llama-server PATH)");
    }
    port_ = free_loopback_port();
    log_ = std::filesystem::temp_directory_path() / ("hiro-llama-server-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".log");
    std::vector<std::string> argv_strings = {binary, "-m", model, "--host", "127.0.0.1", "--port", std::to_string(port_)};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::string shown;
    for (const auto& a : argv_strings) shown += (shown.empty() ? "" : " ") + a;
    spdlog::info("llama-server: {}", shown);
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw core::Error(core::ErrorCode::io, "cannot start " + binary + ": " + std::strerror(rc));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (get_status("/health") != 200) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw core::Error(core::ErrorCode::upstream, "llama-server exited before it was ready: " + log_tail());
        }
        if (std::chrono::steady_clock::now() > deadline) throw core::Error(core::ErrorCode::upstream, "llama-server was not ready within two minutes: " + log_tail());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

LlamaServerProcess::~LlamaServerProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove(log_, ignored);
}

int LlamaServerProcess::get_status(const std::string& target) const {
    try {
        return exchange(port_, http::verb::get, target, "").first;
    } catch (const std::exception&) {
        return 0;  // not listening yet
    }
}

nlohmann::json LlamaServerProcess::post(const std::string& target, const nlohmann::json& body) const {
    const auto [status, answer] = exchange(port_, http::verb::post, target, body.dump());
    if (status != 200) throw core::Error(core::ErrorCode::upstream, "llama-server answered " + std::to_string(status) + ": " + answer.substr(0, 500));
    return nlohmann::json::parse(answer);
}

double LlamaServerProcess::cpu_seconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command (which may hold spaces) in parentheses: utime and stime are the 12th and 13th.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;
    double user = 0, system = 0;
    fields >> user >> system;
    return (user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string LlamaServerProcess::log_tail() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    const std::string all = s.str();
    return all.size() > 1500 ? all.substr(all.size() - 1500) : all;
}

}  // namespace hiro::bench
