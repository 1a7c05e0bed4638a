#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hiro::core {

// Reads a text file line by line, transparently gunzipping `.gz` input
// (zlib passes plain files through). Lines are returned without the newline.
class LineReader {
public:
    explicit LineReader(const std::string& path);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // Next line into `line`; false at end of file. Throws an io Error on a
    // read failure (e.g. a truncated .gz).
    bool next(std::string& line);
    std::size_t line_number() const { return line_number_; }
    std::size_t bytes_read() const { return bytes_read_; }

private:
    void* file_;  // gzFile, kept opaque so zlib.h stays out of this header
    std::string path_;
    std::size_t line_number_ = 0;
    std::size_t bytes_read_ = 0;
};

}  // namespace hiro::core
