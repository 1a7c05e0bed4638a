#include "hi/idx_reader.h"

#include <zlib.h>

#include <filesystem>
#include <memory>

#include "core/error.h"

namespace hiro::hi {
namespace {

using core::Error;
using core::ErrorCode;

struct GzCloser {
    void operator()(gzFile f) const { gzclose(f); }
};

// Reads exactly n bytes or says how many the file had.
void read_exact(gzFile f, void* out, std::size_t n, const std::string& path, const std::string& what) {
    auto* p = static_cast<unsigned char*>(out);
    std::size_t got = 0;
    while (got < n) {
        const int r = gzread(f, p + got, static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30)));
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    if (got != n) {
        throw Error(ErrorCode::invalid_input, path + " is truncated: expected " + std::to_string(n) + " bytes of " + what + ", got " +
                                                  std::to_string(got) + " (reinstall it: apt-get install --reinstall dataset-fashion-mnist)");
    }
}

}  // namespace

IdxArray read_idx(const std::string& path) {
    if (!std::filesystem::is_regular_file(path)) {
        throw Error(ErrorCode::not_found, "cannot open IDX file " + path + " (install Fashion-MNIST: apt-get install dataset-fashion-mnist, or pass --data DIR)");
    }
    std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
    if (!f) throw Error(ErrorCode::io, "cannot read " + path);
    unsigned char magic[4];
    read_exact(f.get(), magic, 4, path, "header");
    // 0x00 0x00, then the element type (0x08 = unsigned byte), then the number of dimensions.
    if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 4) {
        throw Error(ErrorCode::invalid_input, path + " is not an IDX file of unsigned bytes (bad magic number)");
    }
    IdxArray a;
    std::size_t count = 1;
    for (int d = 0; d < magic[3]; ++d) {
        unsigned char be[4];
        read_exact(f.get(), be, 4, path, "header");
        a.dims.push_back((std::uint32_t{be[0]} << 24) | (std::uint32_t{be[1]} << 16) | (std::uint32_t{be[2]} << 8) | be[3]);
        count *= a.dims.back();
    }
    a.values.resize(count);
    read_exact(f.get(), a.values.data(), count, path, "data");
    return a;
}

}  // namespace hiro::hi
