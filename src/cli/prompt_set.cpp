#include "cli/prompt_set.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/line_reader.h"

namespace hiro::cli {

std::vector<PromptItem> read_prompts(const std::string& path, std::size_t limit) {
    core::LineReader reader(path);
    std::vector<PromptItem> items;
    std::string line;
    while (reader.next(line) && (limit == 0 || items.size() < limit)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = path + " line " + std::to_string(reader.line_number());
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_object()) throw core::Error(core::ErrorCode::invalid_input, where + ": not a JSON object (each line: {\"prompt\": ..., \"gold\": ...})");
        auto text = [&](const char* key, bool required) -> std::string {
            const auto it = j.find(key);
            if (it == j.end() || it->is_null()) {
                if (required) throw core::Error(core::ErrorCode::invalid_input, where + ": " + key + " is missing");
                return {};
            }
            if (it->is_number_integer() && std::string_view(key) == "id") return std::to_string(it->get<long long>());
            if (!it->is_string()) throw core::Error(core::ErrorCode::invalid_input, where + ": " + key + " must be a string");
            return it->get<std::string>();
        };
        PromptItem item{text("id", false), text("task", false), text("system", false), text("prompt", true), text("gold", true)};
        if (item.id.empty()) item.id = std::to_string(reader.line_number());
        items.push_back(std::move(item));
    }
    if (items.empty()) throw core::Error(core::ErrorCode::invalid_input, path + " has no prompts (expected JSONL lines {\"prompt\": ..., \"gold\": ...})");
    return items;
}

}  // namespace hiro::cli
