// A property of the local tier, over a thousand seeded generations of
// stories260K at temperatures 2 to 5 over its whole vocabulary (top_k, top_p and
// min_p off: its byte tokens make any sequence of bytes possible): every answer is valid UTF-8, every stream ends in
// [DONE], and a stream's chunks add up to the answer given whole.
#include <gmock/gmock.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <random>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

// One kept-alive connection to hiro: two thousand requests without a process each.
class Connection {
public:
    explicit Connection(int port) : stream_(ioc_) {
        boost::asio::ip::tcp::resolver resolver(ioc_);
        stream_.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
    }
    std::string post(const std::string& body) {
        http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
        http::write(stream_, req);
        http::response<http::string_body> res;
        http::read(stream_, buffer_, res);
        return res.body();
    }

private:
    boost::asio::io_context ioc_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

TEST_F(GatewayTest, LocalAnswersAreValidUtf8AndStreamsAddUpToThemAtAnyTemperature) {
    start_hiro("tiers:\n  - {name: local, kind: local, model_path: '" + shared_model("stories260K.gguf") + "', threads: 1}\n");
    Connection hiro(hiro_port_);
    std::mt19937 rng(2026);
    std::uniform_real_distribution<double> temperature(2.0, 5.0);
    int with_replacements = 0;
    for (int i = 0; i < 1000; ++i) {
        const json request = {{"model", "local"}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                              {"temperature", temperature(rng)}, {"top_k", 0}, {"top_p", 1}, {"min_p", 0}, {"seed", i}, {"max_tokens", 24}};
        const std::string whole_body = hiro.post(request.dump());
        ASSERT_TRUE(valid_utf8(whole_body)) << "request " << request.dump();
        const json whole = json::parse(whole_body);
        const std::string answer = whole["choices"][0]["message"]["content"].get<std::string>();

        json streaming = request;
        streaming["stream"] = true;
        const std::string stream_body = hiro.post(streaming.dump());
        ASSERT_TRUE(valid_utf8(stream_body)) << "request " << streaming.dump();
        std::string concatenated;
        bool done = false;
        std::istringstream lines(stream_body);
        for (std::string line; std::getline(lines, line);) {
            if (line == "data: [DONE]") done = true;
            if (line.rfind("data: {", 0) != 0) continue;
            const json chunk = json::parse(line.substr(6));
            for (const auto& c : chunk["choices"]) {
                if (c["delta"].value("content", json()).is_string()) concatenated += c["delta"]["content"].get<std::string>();
            }
        }
        ASSERT_TRUE(done) << "a stream without [DONE]: " << streaming.dump();
        ASSERT_EQ(concatenated, answer) << "request " << streaming.dump();
        with_replacements += answer.find("\xEF\xBF\xBD") != std::string::npos ? 1 : 0;
    }
    // The property was tested where it matters: many answers held bytes that are no UTF-8.
    EXPECT_GT(with_replacements, 10);
}

}  // namespace
}  // namespace hiro::test
