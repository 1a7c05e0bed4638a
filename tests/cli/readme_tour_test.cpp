// The README's five-minute tour, run as a newcomer runs it: the ```sh tour
// blocks of README.md in order, in one shell, from a fresh directory laid out
// like a checkout (build/ and ../shared/ linked in). Each step must succeed and
// print what the ```text expected block after it shows, so README and program
// cannot drift apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "child_process.h"
#include "run_command.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

namespace fs = std::filesystem;

struct TourStep {
    std::string commands;
    std::vector<std::string> expected;  // lines of the output it shows
};

// The ```sh tour blocks of a README, each with the ```text expected block that follows it.
std::vector<TourStep> read_tour(const std::string& readme) {
    std::vector<TourStep> steps;
    std::istringstream in(readme);
    std::string line;
    enum { outside, commands, expected } block = outside;
    while (std::getline(in, line)) {
        if (block == outside) {
            if (line == "```sh tour") block = commands, steps.emplace_back();
            if (line == "```text expected" && !steps.empty()) block = expected;
        } else if (line == "```") {
            block = outside;
        } else if (block == commands) {
            steps.back().commands += line + "\n";
        } else if (!line.empty()) {
            steps.back().expected.push_back(line);
        }
    }
    return steps;
}

// Whether `output` shows the expected lines in order. "..." in a line stands
// for what changes from run to run (latencies, ids): the text around it must
// still appear, in order.
std::string what_is_missing(const std::string& output, const std::vector<std::string>& expected) {
    std::size_t at = 0;
    for (const auto& line : expected) {
        std::size_t from = 0;
        while (from <= line.size()) {
            const std::size_t gap = std::min(line.find("...", from), line.size());
            std::string part = line.substr(from, gap - from);
            part.erase(0, part.find_first_not_of(' '));
            part.erase(part.find_last_not_of(' ') + 1);
            if (!part.empty()) {
                const std::size_t found = output.find(part, at);
                if (found == std::string::npos) return "'" + part + "' (of the line '" + line + "')";
                at = found + part.size();
            }
            from = gap + 3;
        }
    }
    return "";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
    return s;
}

TEST(ReadmeTourCheck, ExpectedOutputMustAppearInOrder) {
    const std::string output = "accuracy 0.634 -> 0.852\nverdict: pays off at 59% of its cost\n";
    EXPECT_EQ(what_is_missing(output, {"accuracy 0.634 -> 0.852", "verdict: ... at 59% of its cost"}), "");
    EXPECT_NE(what_is_missing(output, {"verdict: pays off", "accuracy 0.634"}), "");  // out of order
    EXPECT_NE(what_is_missing(output, {"verdict: does not pay off"}), "");
}

TEST(ReadmeTour, RunsAsWrittenAndPrintsWhatItShows) {
    const auto steps = read_tour(read_text(std::string(HIRO_SOURCE_DIR) + "/README.md"));
    ASSERT_EQ(steps.size(), 5u) << "the tour: eval, calibrate, serve, record, simulate";
    TempDir dir;
    const fs::path checkout = dir.file("hiro");
    fs::create_directories(checkout);
    fs::create_directory_symlink(fs::path(HIRO_EXECUTABLE).parent_path(), checkout / "build");
    fs::create_directory_symlink(HIRO_SHARED_DIR, dir.file("shared"));

    // One script, as one terminal: servers started by a step serve the later
    // ones and are stopped when it ends. The README's ports become free ones.
    const std::string gateway = std::to_string(free_port()), upstream = std::to_string(free_port());
    std::string script = "set -e\ntrap 'jobs -p | xargs -r kill; wait' EXIT\n";
    for (std::size_t i = 0; i < steps.size(); ++i) {
        std::string commands = replace_all(replace_all(steps[i].commands, ":8000", ":" + gateway), ":8080", ":" + upstream);
        commands = replace_all(commands, "--port 8080", "--port " + upstream);
        script += "echo '@@ step " + std::to_string(i + 1) + "'\n" + commands + "\necho\n";
    }
    script += "echo '@@ end'\n";
    std::ofstream((checkout / "tour.sh").string()) << script;

    const auto r = run_command("cd " + checkout.string() + " && timeout -k 5 150 bash tour.sh");
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::size_t begin = r.out.find("@@ step " + std::to_string(i + 1) + "\n");
        ASSERT_NE(begin, std::string::npos) << "step " << i + 1 << " did not run; the tour printed:\n" << r.out;
        std::size_t end = r.out.find("@@ ", begin + 3);
        ASSERT_NE(end, std::string::npos) << "step " << i + 1 << " failed:\n" << r.out.substr(begin);
        const std::string output = r.out.substr(begin, end - begin);
        EXPECT_EQ(what_is_missing(output, steps[i].expected), "") << "step " << i + 1 << " printed:\n" << output;
    }
    EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace hiro::test
