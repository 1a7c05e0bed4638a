#pragma once

#include <gguf.h>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace hiro::test {

// A copy of a GGUF model at `out` with some metadata rewritten (strings and
// unsigned integers), the tensor data copied as it is: stories260K with a chat
// template of a test's choosing, or a longer context.
inline std::string rewrite_gguf(const std::string& model, const std::string& out, const std::map<std::string, std::string>& strings,
                                const std::map<std::string, std::uint32_t>& numbers = {}) {
    gguf_context* meta = gguf_init_from_file(model.c_str(), {true, nullptr});
    if (meta == nullptr) throw std::runtime_error("cannot read " + model);
    const auto data_offset = static_cast<std::streamoff>(gguf_get_data_offset(meta));
    for (const auto& [key, value] : strings) gguf_set_val_str(meta, key.c_str(), value.c_str());
    for (const auto& [key, value] : numbers) gguf_set_val_u32(meta, key.c_str(), value);
    const bool written = gguf_write_to_file(meta, out.c_str(), true);
    gguf_free(meta);
    if (!written) throw std::runtime_error("cannot write " + out);
    std::ifstream in(model, std::ios::binary);
    in.seekg(data_offset);
    std::ofstream(out, std::ios::binary | std::ios::app) << in.rdbuf();
    return out;
}

}  // namespace hiro::test
