#include "backends/endpoint_probe.h"

#include <sstream>

#include "core/query.h"

namespace hiro::backends {
namespace {

constexpr std::size_t max_probe_body = 1 << 20;

HttpTimeouts probe_timeouts(std::chrono::milliseconds t) { return {t, t, t}; }

// GETs a page; nullopt (and why) unless it answers 200.
Task<std::optional<std::string>> fetch(HttpClient& client, const std::string& path, std::chrono::milliseconds timeout, std::string& why) {
    std::optional<std::string> body;
    try {
        HttpResponse response = co_await client.send("GET", path, {}, "", probe_timeouts(timeout));
        std::string text = co_await response.read_all(max_probe_body);
        if (response.status() == 200) {
            body = std::move(text);
        } else {
            why = "GET " + path + " answered HTTP " + std::to_string(response.status());
        }
    } catch (const HttpError& e) {
        why = "GET " + path + ": " + e.what();
    }
    co_return body;
}

}  // namespace

Task<bool> check_health(HttpClient& client, const std::string& path, std::chrono::milliseconds timeout, std::string& why) {
    co_return (co_await fetch(client, path, timeout, why)).has_value();
}

std::optional<PolledLoad> parse_llama_metrics(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    std::optional<double> processing, deferred;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string name;
        double value = 0;
        if (!(fields >> name >> value)) continue;
        if (name == "llamacpp:requests_processing") processing = value;
        if (name == "llamacpp:requests_deferred") deferred = value;
    }
    if (!processing) return std::nullopt;
    return PolledLoad{*processing + deferred.value_or(0.0), std::nullopt};
}

std::optional<PolledLoad> parse_llama_slots(const std::string& json) {
    const core::Json slots = core::Json::parse(json, nullptr, false);
    if (!slots.is_array()) return std::nullopt;
    PolledLoad load{0, static_cast<double>(slots.size())};
    for (const auto& slot : slots) {
        if (slot.is_object() && slot.value("is_processing", false)) load.busy += 1;
    }
    return load;
}

Task<std::optional<PolledLoad>> poll_load(HttpClient& client, const std::string& source, bool know_slots, std::chrono::milliseconds timeout,
                                          std::string& why) {
    std::optional<PolledLoad> load;
    if (source == "slots") {
        if (auto body = co_await fetch(client, "/slots", timeout, why)) {
            load = parse_llama_slots(*body);
            if (!load) why = "GET /slots: not llama-server's list of slots";
        }
        co_return load;
    }
    auto body = co_await fetch(client, "/metrics", timeout, why);
    if (!body) co_return load;
    load = parse_llama_metrics(*body);
    if (!load) {
        why = "GET /metrics: no llamacpp:requests_processing (start llama-server with --metrics)";
        co_return load;
    }
    if (!know_slots) {
        std::string props_why;
        if (auto props = co_await fetch(client, "/props", timeout, props_why)) {
            const core::Json p = core::Json::parse(*props, nullptr, false);
            if (p.is_object() && p.contains("total_slots") && p["total_slots"].is_number()) load->slots = p["total_slots"].get<double>();
        }
    }
    co_return load;
}

}  // namespace hiro::backends
