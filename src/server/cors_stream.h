#pragma once

#include "server/client_stream.h"

namespace hiro::server {

// The client stream of a browser request from an allowed origin: every
// response carries the CORS headers that let the page read it.
class CorsStream final : public ClientStream {
public:
    CorsStream(ClientStream& inner, std::string origin) : inner_(inner), origin_(std::move(origin)) {}

    Task<void> respond(int status, const Headers& headers, std::string body) override {
        co_await inner_.respond(status, with_cors(headers), std::move(body));
    }
    Task<void> start_stream(const Headers& headers) override { co_await inner_.start_stream(with_cors(headers)); }
    Task<void> send_event(std::string_view data) override { co_await inner_.send_event(data); }
    Task<void> end_stream() override { co_await inner_.end_stream(); }
    int status() const override { return inner_.status(); }

private:
    Headers with_cors(Headers headers) const {
        headers.emplace_back("access-control-allow-origin", origin_);
        headers.emplace_back("access-control-expose-headers", "x-hiro-tier, x-request-id");
        headers.emplace_back("vary", "Origin");
        return headers;
    }

    ClientStream& inner_;
    std::string origin_;
};

}  // namespace hiro::server
