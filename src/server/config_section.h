#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/openai_response.h"
#include "server/gateway_config.h"

namespace hiro::server {

// Reads one YAML map, remembering where it is for messages and refusing keys
// it does not know (a typo must not silently fall back to a default).
class Section {
public:
    // base_dir: the folder relative paths in the config resolve from (the
    // config file's folder; empty: the working directory).
    Section(const YAML::Node& node, std::string path, const std::string& source, std::string base_dir = "")
        : node_(node), path_(std::move(path)), source_(source), base_dir_(std::move(base_dir)) {
        if (!node_.IsMap()) fail(path_.empty() ? "the config must be a YAML map" : path_ + " must be a map");
    }

    [[noreturn]] void fail(const std::string& what) const { throw core::Error(core::ErrorCode::invalid_input, source_ + ": " + what); }
    std::string key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

    void allow_only(std::initializer_list<std::string> keys) const {
        std::set<std::string> known(keys);
        for (const auto& kv : node_) {
            const auto k = kv.first.as<std::string>();
            if (!known.count(k)) {
                std::string list;
                for (const auto& x : keys) list += (list.empty() ? "" : ", ") + x;
                fail(key(k) + " is not a known key (known: " + list + ")");
            }
        }
    }

    bool has(const std::string& k) const { return static_cast<bool>(node_[k]); }
    YAML::Node operator[](const std::string& k) const { return node_[k]; }

    template <class T>
    T get(const std::string& k, const char* want, T fallback) const {
        const YAML::Node v = node_[k];
        if (!v) return fallback;
        try {
            return v.as<T>();
        } catch (const YAML::Exception&) {
            fail(key(k) + " must be " + want);
        }
    }

    template <class T>
    T require(const std::string& k, const char* want) const {
        if (!has(k)) fail(key(k) + " is missing");
        return get<T>(k, want, T{});
    }

    std::string secret(const std::string& literal_key, const std::string& env_key) const {
        if (has(literal_key)) return get<std::string>(literal_key, "a string", "");
        if (!has(env_key)) return "";
        const auto var = get<std::string>(env_key, "the name of an environment variable", "");
        const char* value = std::getenv(var.c_str());
        if (value == nullptr || *value == '\0') fail(key(env_key) + ": the environment variable " + var + " is not set");
        return value;
    }

    // A path from the config, made absolute: a relative one resolves from the
    // config file's folder, not from wherever hiro was started.
    std::string resolve(const std::string& file) const {
        if (file.empty()) return file;
        std::filesystem::path p(file);
        if (p.is_relative()) p = (base_dir_.empty() ? std::filesystem::current_path() : std::filesystem::path(base_dir_)) / p;
        return p.lexically_normal().string();
    }

    // The file named by key k (absent: ""), resolved; must_exist refuses a
    // path that names no file, saying which key named it.
    std::string file(const std::string& k, const char* want, bool must_exist) const {
        const std::string resolved = resolve(get<std::string>(k, want, ""));
        if (must_exist && !resolved.empty() && !std::filesystem::is_regular_file(resolved)) {
            fail(key(k) + ": no such file " + resolved);
        }
        return resolved;
    }

    // "tiers[0].max_concurrent is -3, but must not be negative (0: no limit)".
    void not_negative(const std::string& k, double v, const std::string& note = "") const {
        if (v < 0) fail(key(k) + " is " + number(v) + ", but must not be negative" + note);
    }
    static std::string number(double v) {
        std::ostringstream out;
        out << v;
        return out.str();
    }

    const std::string& path() const { return path_; }
    const std::string& source() const { return source_; }
    const std::string& base_dir() const { return base_dir_; }
    Section child(const std::string& k) const { return Section(node_[k], key(k), source_, base_dir_); }

private:
    YAML::Node node_;
    std::string path_;
    std::string source_;
    std::string base_dir_;
};

inline std::chrono::milliseconds ms(double v) { return std::chrono::milliseconds(static_cast<long long>(v)); }

// A tier's `defaults:` (OpenAI request fields), refusing the ones hiro or the request owns.
core::Json request_defaults(const Section& s);

TierSettings parse_tier(const Section& t);

}  // namespace hiro::server
