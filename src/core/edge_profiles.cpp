#include "core/edge_profiles.h"

#include <yaml-cpp/yaml.h>

#include <fstream>

#include "core/error.h"

namespace hiro::core {
namespace {

// Reads the fields of one entry with messages that name the entry and field.
class EntryReader {
public:
    EntryReader(const std::string& path, std::string where, YAML::Node node)
        : path_(path), where_(std::move(where)), node_(std::move(node)) {
        if (!node_.IsMap()) fail("must be a map of fields");
    }

    double number(const char* key, bool positive = true) const {
        const YAML::Node v = node_[key];
        if (!v) fail(std::string(key) + " is missing");
        double d = 0;
        try {
            d = v.as<double>();
        } catch (const YAML::Exception&) {
            fail(std::string(key) + " must be a number");
        }
        if (positive ? !(d > 0) : d < 0) fail(std::string(key) + (positive ? " must be > 0" : " must be >= 0"));
        return d;
    }
    double number_or(const char* key, double fallback) const { return node_[key] ? number(key, false) : fallback; }
    std::string text(const char* key) const {
        const YAML::Node v = node_[key];
        if (!v || !v.IsScalar() || v.as<std::string>().empty()) fail(std::string(key) + " is missing (every figure names its source)");
        return v.as<std::string>();
    }
    std::string text_or(const char* key, std::string fallback) const { return node_[key] ? node_[key].as<std::string>() : fallback; }
    // An optional map NAME: milliseconds.
    std::map<std::string, double, std::less<>> times(const char* key) const {
        std::map<std::string, double, std::less<>> out;
        const YAML::Node v = node_[key];
        if (!v) return out;
        if (!v.IsMap()) fail(std::string(key) + " must be a map MODEL: milliseconds");
        for (const auto& e : v) {
            const auto model = e.first.as<std::string>();
            try {
                out[model] = e.second.as<double>();
            } catch (const YAML::Exception&) {
                fail(std::string(key) + "." + model + " must be a number (milliseconds)");
            }
            if (!(out[model] > 0)) fail(std::string(key) + "." + model + " must be > 0");
        }
        return out;
    }

    [[noreturn]] void fail(const std::string& what) const { throw Error(ErrorCode::invalid_input, path_ + ": " + where_ + ": " + what); }

private:
    const std::string& path_;
    std::string where_;
    YAML::Node node_;
};

template <class Map, class Parse>
void read_section(const std::string& path, const YAML::Node& root, const char* section, Map& out, Parse parse) {
    const YAML::Node node = root[section];
    if (!node) return;
    if (!node.IsMap()) throw Error(ErrorCode::invalid_input, path + ": '" + section + "' must be a map NAME: {fields}");
    for (const auto& entry : node) {
        const auto name = entry.first.as<std::string>();
        EntryReader r(path, std::string(section) + "." + name, entry.second);
        out[name] = parse(name, r);
    }
}

template <class Map>
const auto& find_named(const Map& map, std::string_view name, const char* what, const std::string& source) {
    auto it = map.find(name);
    if (it != map.end()) return it->second;
    std::string known;
    for (const auto& [n, _] : map) known += (known.empty() ? "" : ", ") + n;
    throw Error(ErrorCode::not_found, std::string("no ") + what + " '" + std::string(name) + "' in " + source + " (it has: " + known + ")");
}

}  // namespace

const DeviceProfile& EdgeProfiles::device(std::string_view name) const { return find_named(devices, name, "device", source); }
const LinkProfile& EdgeProfiles::link(std::string_view name) const { return find_named(links, name, "link", source); }
const ServerProfile& EdgeProfiles::server(std::string_view name) const { return find_named(servers, name, "server", source); }
const CloudProfile& EdgeProfiles::cloud(std::string_view name) const { return find_named(clouds, name, "cloud", source); }

EdgeProfiles load_edge_profiles(const std::string& path) {
    if (!std::ifstream(path)) throw Error(ErrorCode::not_found, "cannot open profile file " + path + " (see config/edge/profiles.yaml)");
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        throw Error(ErrorCode::invalid_input, path + ": not valid YAML: " + e.what());
    }
    EdgeProfiles p;
    p.source = path;
    read_section(path, root, "devices", p.devices, [](const std::string& name, const EntryReader& r) {
        return DeviceProfile{name,
                             r.text_or("description", name),
                             r.text("source"),
                             r.number("macs_per_second"),
                             r.number_or("overhead_ms", 0),
                             r.number("active_power_w"),
                             r.number("idle_power_w"),
                             r.number("memory_bytes"),
                             r.number_or("hourly_cost_usd", 0),
                             r.times("compute_ms")};
    });
    read_section(path, root, "links", p.links, [](const std::string& name, const EntryReader& r) {
        LinkProfile l{name, r.text_or("description", name), r.text("source"), r.number("uplink_bps"), r.number("rtt_ms"),
                      r.number("tx_joule_per_byte"), r.number_or("loss", 0)};
        if (l.loss >= 1) r.fail("loss must be below 1");
        return l;
    });
    read_section(path, root, "servers", p.servers, [](const std::string& name, const EntryReader& r) {
        ServerProfile s{name,
                        r.text_or("description", name),
                        r.text("source"),
                        static_cast<int>(r.number("workers")),
                        static_cast<int>(r.number_or("max_batch", 1)),
                        r.number_or("batch_speedup", 1),
                        r.number_or("speed_factor", 1),
                        r.number_or("decode_tokens_per_second", 0),
                        r.number_or("prefill_tokens_per_second", 0),
                        r.text_or("discipline", "fifo")};
        if (s.discipline != "fifo" && s.discipline != "lifo") r.fail("discipline must be fifo or lifo");
        if (s.max_batch < 1 || s.workers < 1) r.fail("workers and max_batch must be >= 1");
        return s;
    });
    read_section(path, root, "clouds", p.clouds, [](const std::string& name, const EntryReader& r) {
        return CloudProfile{name, r.text("source"), r.number("rtt_ms"), r.number_or("usd_per_request", 0)};
    });
    if (const YAML::Node scenarios = root["scenarios"]) {
        for (const auto& s : scenarios) {
            Scenario sc{s["device"].as<std::string>(""), s["link"].as<std::string>("")};
            p.device(sc.device);
            p.link(sc.link);
            p.scenarios.push_back(sc);
        }
    }
    return p;
}

}  // namespace hiro::core
