#pragma once

#include <yaml-cpp/yaml.h>

namespace hiro::core {

// A YAML value as JSON (nlohmann's json or ordered_json): quoted scalars stay
// strings; plain ones become booleans, integers or numbers when they read as
// such.
template <class JsonType>
JsonType yaml_to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            JsonType out = JsonType::object();
            for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json<JsonType>(kv.second);
            return out;
        }
        case YAML::NodeType::Sequence: {
            JsonType out = JsonType::array();
            for (const auto& item : node) out.push_back(yaml_to_json<JsonType>(item));
            return out;
        }
        case YAML::NodeType::Scalar: {
            if (node.Tag() == "!") return node.as<std::string>();
            bool b;
            long long i;
            double d;
            if (YAML::convert<bool>::decode(node, b)) return b;
            if (YAML::convert<long long>::decode(node, i)) return i;
            if (YAML::convert<double>::decode(node, d)) return d;
            return node.as<std::string>();
        }
        default: return nullptr;
    }
}

}  // namespace hiro::core
