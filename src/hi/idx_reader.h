#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hiro::hi {

// An IDX array of unsigned bytes (the MNIST file format): its dimensions and
// its values, row-major.
struct IdxArray {
    std::vector<std::uint32_t> dims;
    std::vector<std::uint8_t> values;
};

// Reads an IDX file of unsigned bytes, gzipped or plain. A missing file is a
// not_found Error, a wrong magic number or a file shorter than its header says
// an invalid_input Error naming the file and what is wrong.
IdxArray read_idx(const std::string& path);

}  // namespace hiro::hi
