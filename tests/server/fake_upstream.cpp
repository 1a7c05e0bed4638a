// A misbehaving OpenAI-compatible upstream for the gateway's fault tests, run
// as its own process on a loopback port:
//   fake_upstream PORT drip TOKENS DELAY_MS   stream TOKENS tokens, one every DELAY_MS
//   fake_upstream PORT hang                   read the request, never answer
//   fake_upstream PORT garbage                answer 200 with a body that is not an event stream
//   fake_upstream PORT status CODE            answer CODE with an OpenAI error (429 adds Retry-After: 7)
// GET /health always answers 200 so that tests can wait for it.
#include <utility>  // Boost 1.74 asio/awaitable.hpp needs std::exchange under C++20

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Mode {
    std::string name;
    int tokens = 0;
    int delay_ms = 0;
    int status = 200;
};

void write_raw(tcp::socket& s, const std::string& bytes) { asio::write(s, asio::buffer(bytes)); }

std::string chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

void serve(tcp::socket socket, Mode mode) {
    try {
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            http::read(socket, buffer, req);
            if (req.target() == "/health" || req.target() == "/v1/health") {
                write_raw(socket, "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Type: application/json\r\n\r\n{\"status\":\"ok\"}");
                continue;
            }
            if (mode.name == "hang") {
                std::this_thread::sleep_for(std::chrono::hours(1));
            } else if (mode.name == "garbage") {
                write_raw(socket, "HTTP/1.1 200 OK\r\nContent-Length: 21\r\nContent-Type: text/plain\r\n\r\nthis is not an answer");
            } else if (mode.name == "status") {
                const std::string body = R"({"error": {"message": "fake upstream says no", "type": "server_error"}})";
                std::string head = "HTTP/1.1 " + std::to_string(mode.status) + " Fake\r\nContent-Type: application/json\r\n";
                if (mode.status == 429) head += "Retry-After: 7\r\n";
                write_raw(socket, head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
            } else {  // drip
                const bool chat = req.target().find("chat") != beast::string_view::npos;
                write_raw(socket, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int i = 0; i < mode.tokens; ++i) {
                    const std::string text = "drip" + std::to_string(i) + " ";
                    const std::string logprobs = R"({"content": [{"token": ")" + text + R"(", "logprob": -0.25, "top_logprobs": []}]})";
                    const std::string choice = chat ? R"({"index": 0, "delta": {"content": ")" + text + R"("}, "logprobs": )" + logprobs + "}"
                                                    : R"({"index": 0, "text": ")" + text + R"(", "logprobs": )" + logprobs + "}";
                    write_raw(socket, chunk("data: {\"choices\": [" + choice + "]}\n\n"));
                    std::this_thread::sleep_for(std::chrono::milliseconds(mode.delay_ms));
                }
                const std::string done = chat ? R"({"index": 0, "delta": {}, "finish_reason": "stop"})" : R"({"index": 0, "text": "", "finish_reason": "stop"})";
                write_raw(socket, chunk("data: {\"choices\": [" + done + "]}\n\n") + chunk("data: [DONE]\n\n") + "0\r\n\r\n");
            }
        }
    } catch (const std::exception&) {
        // The client went away: this connection is done.
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: fake_upstream PORT drip TOKENS DELAY_MS | hang | garbage | status CODE\n";
        return 2;
    }
    Mode mode;
    mode.name = argv[2];
    if (mode.name == "drip" && argc >= 5) {
        mode.tokens = std::stoi(argv[3]);
        mode.delay_ms = std::stoi(argv[4]);
    } else if (mode.name == "status" && argc >= 4) {
        mode.status = std::stoi(argv[3]);
    }
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(argv[1]))});
    for (;;) std::thread(serve, acceptor.accept(), mode).detach();
}
