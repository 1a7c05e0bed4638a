#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace hiro::cli {

// One line of a prompt set: {"prompt", "gold", optional "id", "system", "task"}.
struct PromptItem {
    std::string id, task, system, prompt, gold;
};

// Reads a JSONL prompt set (optionally gzipped), at most `limit` prompts
// (0 = all). A malformed line is an invalid_input Error naming the file, the
// line and the field; a prompt without an id gets its line number.
std::vector<PromptItem> read_prompts(const std::string& path, std::size_t limit);

}  // namespace hiro::cli
