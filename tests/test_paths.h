#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace hiro::test {

// A file of ../shared/data/outcomes/ (real recorded LLM outcomes).
inline std::string outcome_file(const std::string& name) {
    return std::string(HIRO_SHARED_DIR) + "/data/outcomes/" + name;
}

inline std::string shared_model(const std::string& name) { return std::string(HIRO_SHARED_DIR) + "/models/" + name; }

// A whole file's text ("" when it cannot be read).
inline std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A fresh temporary directory, removed when the object goes away.
class TempDir {
public:
    TempDir() {
        path_ = std::filesystem::temp_directory_path() / ("hiro-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    static int& counter() {
        static int n = 0;
        return n;
    }
    std::filesystem::path path_;
};

}  // namespace hiro::test
