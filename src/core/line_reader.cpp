#include "core/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace hiro::core {

LineReader::LineReader(const std::string& path) : path_(path) {
    errno = 0;
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) {
        const bool missing = errno == ENOENT;
        throw Error(missing ? ErrorCode::not_found : ErrorCode::io,
                    "cannot open " + path + ": " + (errno ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(f, 1 << 20);
    file_ = f;
}

LineReader::~LineReader() { gzclose(static_cast<gzFile>(file_)); }

bool LineReader::next(std::string& line) {
    auto* f = static_cast<gzFile>(file_);
    line.clear();
    char chunk[1 << 16];
    while (gzgets(f, chunk, sizeof chunk) != nullptr) {
        std::size_t len = std::strlen(chunk);
        bytes_read_ += len;
        if (len > 0 && chunk[len - 1] == '\n') {
            line.append(chunk, len - 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            ++line_number_;
            return true;
        }
        line.append(chunk, len);
    }
    int err = 0;
    const char* msg = gzerror(f, &err);
    if (err == Z_BUF_ERROR) throw Error(ErrorCode::io, path_ + ": the compressed file is truncated");
    if (err != Z_OK) {
        throw Error(ErrorCode::io, path_ + " line " + std::to_string(line_number_ + 1) + ": read failed: " + msg);
    }
    if (line.empty()) return false;
    ++line_number_;  // a last line without a newline
    return true;
}

}  // namespace hiro::core
