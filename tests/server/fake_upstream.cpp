// A misbehaving OpenAI-compatible upstream for the gateway's fault tests and
// benchmarks, run as its own process on a loopback port. Asynchronous (one
// coroutine per connection on one thread), so that it holds tens of
// thousands of streams and is never what a benchmark measures:
//   fake_upstream PORT drip TOKENS DELAY_MS   TOKENS tokens, one every DELAY_MS (streamed, or one body after the same time)
//   fake_upstream PORT hang                   read the request, never answer
//   fake_upstream PORT garbage                answer 200 with a body that is not an event stream
//   fake_upstream PORT status CODE            answer CODE with an OpenAI error (429 adds Retry-After: 7)
//   fake_upstream PORT record FILE            answer "recorded" and append each request body to FILE (one JSON per line)
//   fake_upstream PORT tool                   answer with a call of the tool `weather` (whole, or streamed in pieces)
//   fake_upstream PORT break TOKENS           stream TOKENS tokens, then close the connection mid-answer
//   fake_upstream PORT tool-break             stream the start of a call of `weather`, then close the connection mid-call
// GET /health always answers 200 so that tests can wait for it; GET /connections
// says how many client connections are open: {"open": N}.
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <fstream>
#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

struct Mode {
    std::string name;
    int tokens = 0;
    int delay_ms = 0;
    int status = 200;
    std::string record_path;
};

std::string chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

std::string event(const json& j) { return chunk("data: " + j.dump() + "\n\n"); }

std::string response(int status, const std::string& type, const std::string& body, const std::string& extra = "") {
    return "HTTP/1.1 " + std::to_string(status) + " Fake\r\nContent-Type: " + type + "\r\n" + extra + "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

json usage(int tokens) { return {{"prompt_tokens", 5}, {"completion_tokens", tokens}, {"total_tokens", 5 + tokens}}; }

// As a real server, logprobs only when the request asks for them.
json choice(bool chat, const std::string& text, const json& finish, bool logprobs) {
    json c = {{"index", 0}, {"finish_reason", finish}};
    if (logprobs) c["logprobs"] = text.empty() ? json(nullptr) : json{{"content", {{{"token", text}, {"logprob", -0.25}, {"top_logprobs", json::array()}}}}};
    if (chat) {
        c["delta"] = text.empty() ? json::object() : json{{"content", text}};
    } else {
        c["text"] = text;
    }
    return c;
}

asio::awaitable<void> write(tcp::socket& s, const std::string& bytes) { co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable); }

asio::awaitable<void> sleep_ms(int ms) {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await t.async_wait(asio::use_awaitable);
}

// The pieces of a drip answer. (Built outside the coroutine: GCC 12 cannot
// keep an initializer list's backing array in a coroutine frame.)
std::string whole_answer(const Mode& mode, bool chat) {
    std::string text;
    for (int i = 0; i < mode.tokens; ++i) text += "drip" + std::to_string(i) + " ";
    json c = {{"index", 0}, {"finish_reason", "stop"}, {"logprobs", nullptr}};
    if (chat) {
        c["message"] = {{"role", "assistant"}, {"content", text}};
    } else {
        c["text"] = text;
    }
    const json body = {{"id", "fake-1"}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", 0}, {"model", "fake"},
                       {"choices", {c}}, {"usage", usage(mode.tokens)}};
    return response(200, "application/json", body.dump());
}

std::string stream_head(bool chat) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    // As OpenAI and llama-server, a chat stream announces the role first.
    if (chat) head += event({{"choices", {{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}}}});
    return head;
}

std::string token_event(bool chat, int i, bool logprobs) {
    return event({{"choices", {choice(chat, "drip" + std::to_string(i) + " ", nullptr, logprobs)}}});
}

std::string stream_tail(const Mode& mode, bool chat, const json& request) {
    std::string tail = event({{"choices", {choice(chat, "", "stop", false)}}});
    if (request.contains("stream_options") && request["stream_options"].value("include_usage", false)) {
        tail += event({{"choices", json::array()}, {"usage", usage(mode.tokens)}});
    }
    return tail + chunk("data: [DONE]\n\n") + "0\r\n\r\n";
}

// A call of `weather`, with logprobs over its tokens when asked (as llama-server reports them).
json tool_call() { return {{"id", "call_fake1"}, {"type", "function"}, {"function", {{"name", "weather"}, {"arguments", R"({"city":"Paris"})"}}}}; }

// cut: the stream ends (the connection closes) in the middle of the call's arguments.
std::string tool_answer(const json& request, bool cut = false) {
    const bool logprobs = request.value("logprobs", false);
    json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {tool_call()}}}}, {"finish_reason", "tool_calls"}};
    if (logprobs) choice["logprobs"] = {{"content", {{{"token", "<call>"}, {"logprob", -0.25}, {"top_logprobs", json::array()}}}}};
    if (!request.value("stream", false)) {
        const json body = {{"id", "fake-tool"}, {"object", "chat.completion"}, {"created", 0}, {"model", "fake"}, {"choices", {choice}}, {"usage", usage(3)}};
        return response(200, "application/json", body.dump());
    }
    auto chunk_of = [](json delta, const json& finish) {
        return event({{"id", "fake-tool"}, {"object", "chat.completion.chunk"}, {"choices", {{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}}}});
    };
    std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    out += chunk_of({{"role", "assistant"}, {"content", nullptr}}, nullptr);
    out += chunk_of({{"tool_calls", {{{"index", 0}, {"id", "call_fake1"}, {"type", "function"}, {"function", {{"name", "weather"}, {"arguments", ""}}}}}}}, nullptr);
    out += chunk_of({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", R"({"city":)"}}}}}}}, nullptr);
    if (cut) return out;
    out += chunk_of({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", R"("Paris"})"}}}}}}}, nullptr);
    out += chunk_of(json::object(), "tool_calls");
    if (request.contains("stream_options")) out += event({{"id", "fake-tool"}, {"choices", json::array()}, {"usage", usage(3)}});
    return out + chunk("data: [DONE]\n\n") + "0\r\n\r\n";
}

asio::awaitable<void> drip(tcp::socket& socket, const Mode& mode, bool chat, const json& request) {
    if (!request.value("stream", false)) {
        co_await sleep_ms(mode.tokens * mode.delay_ms);
        co_await write(socket, whole_answer(mode, chat));
        co_return;
    }
    const bool logprobs = request.contains("logprobs") && !request["logprobs"].is_null() && request["logprobs"] != false;
    co_await write(socket, stream_head(chat));
    for (int i = 0; i < mode.tokens; ++i) {
        co_await write(socket, token_event(chat, i, logprobs));
        co_await sleep_ms(mode.delay_ms);
    }
    co_await write(socket, stream_tail(mode, chat, request));
}

std::size_t open_connections = 0;

// Not counting the connection that asks.
std::string connections_answer() { return response(200, "application/json", json{{"open", open_connections - 1}}.dump()); }

const Mode one_token{"drip", 1, 0, 200, ""};

asio::awaitable<void> serve(tcp::socket socket, const Mode& mode) {
    beast::flat_buffer buffer;
    ++open_connections;
    struct Closed {
        ~Closed() { --open_connections; }
    } closed;
    try {
        for (;;) {
            http::request<http::string_body> req;
            co_await http::async_read(socket, buffer, req, asio::use_awaitable);
            if (req.target() == "/health" || req.target() == "/v1/health") {
                const std::string ok = response(200, "application/json", R"({"status":"ok"})");
                co_await write(socket, ok);
                continue;
            }
            if (req.target() == "/connections") {
                co_await write(socket, connections_answer());
                continue;
            }
            const json request = json::parse(req.body(), nullptr, false);
            const bool chat = req.target().find("chat") != beast::string_view::npos;
            if (mode.name == "hang") {
                co_await sleep_ms(3600 * 1000);
            } else if (mode.name == "garbage") {
                const std::string garbage = response(200, "text/plain", "this is not an answer");
                co_await write(socket, garbage);
            } else if (mode.name == "status") {
                const std::string refusal = response(mode.status, "application/json", R"({"error": {"message": "fake upstream says no", "type": "server_error"}})",
                                                     mode.status == 429 ? "Retry-After: 7\r\n" : "");
                co_await write(socket, refusal);
            } else if (mode.name == "break") {
                co_await write(socket, stream_head(chat));
                for (int i = 0; i < mode.tokens; ++i) co_await write(socket, token_event(chat, i, false));
                co_return;  // the connection closes with the answer unfinished
            } else if (mode.name == "tool") {
                co_await write(socket, tool_answer(request));
            } else if (mode.name == "tool-break") {
                co_await write(socket, tool_answer(request, true));
                co_return;  // the connection closes in the middle of the call
            } else if (mode.name == "record") {
                std::ofstream(mode.record_path, std::ios::app) << req.body() << "\n";
                co_await drip(socket, one_token, chat, request);
            } else {
                co_await drip(socket, mode, chat, request);
            }
        }
    } catch (const std::exception&) {
        // The client went away: this connection is done.
    }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, const Mode& mode) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_await sleep_ms(10);  // out of descriptors: try again shortly
            continue;
        }
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), mode), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: fake_upstream PORT drip TOKENS DELAY_MS | hang | garbage | status CODE | record FILE\n";
        return 2;
    }
    Mode mode;
    mode.name = argv[2];
    if (mode.name == "drip" && argc >= 5) {
        mode.tokens = std::stoi(argv[3]);
        mode.delay_ms = std::stoi(argv[4]);
    } else if (mode.name == "break" && argc >= 4) {
        mode.tokens = std::stoi(argv[3]);
    } else if (mode.name == "status" && argc >= 4) {
        mode.status = std::stoi(argv[3]);
    } else if (mode.name == "record" && argc >= 4) {
        mode.record_path = argv[3];
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(argv[1]))});
    acceptor.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(ioc, listen(acceptor, mode), asio::detached);
    ioc.run();
}
