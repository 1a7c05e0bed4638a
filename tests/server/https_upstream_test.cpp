// A tier behind https, as cloud APIs are: nginx terminates TLS in front of llama-server.
#include <gmock/gmock.h>

#include <csignal>

#include "server/gateway_fixture.h"

namespace hiro::test {
namespace {

TEST_F(GatewayTest, HttpsUpstreamIsVerifiedAgainstItsCertificate) {
    const std::string cert = dir_.file("cert.pem"), key = dir_.file("key.pem");
    const auto made = run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
                                  "subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert);
    ASSERT_EQ(made.exit_code, 0) << made.out;
    const int tls_port = free_port();
    const std::string prefix = dir_.file("nginx");
    std::filesystem::create_directories(prefix);
    std::ofstream(prefix + "/nginx.conf") << "worker_processes 1; pid " << prefix << "/nginx.pid; error_log " << prefix
                                         << "/error.log warn;\nevents { worker_connections 64; }\nhttp {\n access_log off;\n"
                                         << " client_body_temp_path " << prefix << "/b; proxy_temp_path " << prefix << "/p;\n"
                                         << " fastcgi_temp_path " << prefix << "/f; uwsgi_temp_path " << prefix << "/u; scgi_temp_path "
                                         << prefix << "/s;\n server {\n  listen 127.0.0.1:" << tls_port << " ssl;\n  ssl_certificate "
                                         << cert << ";\n  ssl_certificate_key " << key << ";\n  location / { proxy_pass http://127.0.0.1:"
                                         << llama_port_ << "; proxy_buffering off; }\n }\n}\n";
    ChildProcess nginx({HIRO_NGINX, "-p", prefix, "-c", prefix + "/nginx.conf", "-g", "daemon off;"});
    ASSERT_TRUE(nginx.wait_until_ok("-k https://127.0.0.1:" + std::to_string(tls_port) + "/health")) << nginx.log();

    const std::string url = "https://127.0.0.1:" + std::to_string(tls_port) + "/v1";
    start_hiro("tiers:\n  - {name: trusted, kind: openai, base_url: '" + url + "', ca_file: '" + cert + "'}\n" +
               "  - {name: untrusted, kind: openai, base_url: '" + url + "'}\n");
    const Reply ok = post("/v1/chat/completions", chat("trusted", 4));
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_FALSE(ok.json()["choices"][0]["message"]["content"].get<std::string>().empty());
    StreamReader reader("-X POST " + this->url("/v1/chat/completions") + " -d '" + chat("trusted", 4, true) + "'");
    std::string data, last;
    while (reader.next(data)) last = data;
    EXPECT_EQ(last, "[DONE]");

    // A self-signed certificate the system does not trust is refused, and the error says why.
    const Reply refused = post("/v1/chat/completions", chat("untrusted", 4));
    EXPECT_EQ(refused.status, 502) << refused.body;
    EXPECT_THAT(refused.json()["error"]["message"].get<std::string>(), ::testing::HasSubstr("certificate verify failed"));
    nginx.stop(SIGQUIT, std::chrono::seconds(10));
}

}  // namespace
}  // namespace hiro::test
