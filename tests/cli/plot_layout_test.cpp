// Every chart hiro writes, read back: no two texts on top of each other, no
// text off its canvas, no label on a plotted point. The commands run as a user
// runs them, on the real files, with small options.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eval/svg_chart.h"
#include "run_command.h"
#include "svg_layout_check.h"
#include "test_paths.h"

namespace hiro::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const char* const svg_head = R"(<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" font-size="13">)";

// The check itself, on hand-made SVGs it must pass or fail.
TEST(SvgLayoutCheck, PassesSeparateTexts) {
    EXPECT_THAT(svg_layout_problems(std::string(svg_head) + R"(<text x="10" y="20">one</text><text x="10" y="40">two</text>
                                                              <circle cx="200" cy="200" r="5"/></svg>)"),
                IsEmpty());
}

TEST(SvgLayoutCheck, FindsOverlappingTexts) {
    EXPECT_THAT(svg_layout_problems(std::string(svg_head) + R"(<text x="10" y="20">first label</text><text x="40" y="25">second</text></svg>)"),
                ElementsAre("texts 'first label' and 'second' overlap"));
    // Anchored at its end, a text runs leftwards into the other.
    EXPECT_THAT(svg_layout_problems(std::string(svg_head) + R"(<text x="10" y="20">left</text><text x="40" y="20" text-anchor="end">right</text></svg>)"),
                ElementsAre("texts 'left' and 'right' overlap"));
}

TEST(SvgLayoutCheck, FindsTextOffTheCanvas) {
    EXPECT_THAT(svg_layout_problems(std::string(svg_head) + R"(<text x="370" y="20">cut at the edge</text></svg>)"),
                ElementsAre("text 'cut at the edge' leaves its canvas"));
    // A nested chart moved right by half the width: its own canvas ends at 400 too.
    EXPECT_THAT(svg_layout_problems(R"svg(<svg width="800" height="300"><g transform="translate(400,0)">)svg" + std::string(svg_head) +
                                    R"(<text x="370" y="20">cut at the edge</text></svg></g></svg>)"),
                ElementsAre("text 'cut at the edge' leaves its canvas"));
}

TEST(SvgLayoutCheck, FindsTextOnAPoint) {
    EXPECT_THAT(svg_layout_problems(std::string(svg_head) + R"(<circle cx="30" cy="15" r="5"/><text x="10" y="20">on it</text></svg>)"),
                ElementsAre("text 'on it' covers the point at (30.0, 15.0)"));
}

TEST(SvgLayoutCheck, TurnsUprightTextOnItsEnd) {
    // An axis title read upwards is tall and thin: it clears a text beside it and hits one across it.
    const std::string axis = R"svg(<text transform="translate(22 150) rotate(-90)" text-anchor="middle">share of samples answered</text>)svg";
    EXPECT_THAT(svg_layout_problems(std::string(svg_head) + axis + R"(<text x="40" y="150">beside</text></svg>)"), IsEmpty());
    EXPECT_THAT(svg_layout_problems(std::string(svg_head) + axis + R"(<text x="5" y="150">across</text></svg>)"),
                ElementsAre("texts 'share of samples answered' and 'across' overlap"));
}

// A chart crowded on purpose: labels of many series ending on one spot.
TEST(SvgChartLayout, CrowdedLabelsStayApart) {
    eval::SvgChart chart("Crowded", "x", "y");
    for (int i = 0; i < 8; ++i) {
        chart.add_line({{0.0, 0.1 * i}, {1.0, 1.0}}, "a line whose label is rather long #" + std::to_string(i), "#1f77b4");
        chart.add_point(1.0 - 0.01 * i, 1.0, "point " + std::to_string(i), "#444444");
    }
    EXPECT_THAT(svg_layout_problems(chart.render()), IsEmpty());
}

void expect_clean_plot(const std::string& path) {
    const std::string svg = read_text(path);
    ASSERT_THAT(svg, HasSubstr("<svg")) << path;
    EXPECT_THAT(svg_layout_problems(svg), IsEmpty()) << path;
}

// Runs `hiro ARGS --plot DIR/SVG` and checks the chart it writes.
void expect_clean_plot_of(const std::string& args, const TempDir& dir, const std::string& svg) {
    const auto r = run_command(hiro(args + " --plot " + dir.file(svg)));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    expect_clean_plot(dir.file(svg));
}

TEST(PlotLayout, EvalCalibrateAndRouterTrain) {
    TempDir dir;
    expect_clean_plot_of("eval " + outcome_file("mmlu_llama_test.jsonl") + " --weak llama3.1-8b --strong llama3.1-405b", dir, "eval.svg");
    // Without costs the x axis is the share of strong calls: the weak and strong points sit at its ends.
    expect_clean_plot_of("eval " + outcome_file("gsm8k_routellm.jsonl"), dir, "share.svg");
    // Two of calibrate's searches often pick the same thresholds: two markers, two labels, one spot.
    expect_clean_plot_of("calibrate --train " + outcome_file("mmlu_llama_train.jsonl") + " --test " + outcome_file("mmlu_llama_test.jsonl") +
                             " --chain llama3.1-8b,llama3.1-405b --target strong-0.02",
                         dir, "calibrate.svg");
    expect_clean_plot_of("calibrate --train " + outcome_file("triviaqa_llama_train.jsonl") +
                             " --chain llama3.2-3b,llama3.1-70b,llama3.1-405b --target 'accuracy>=0.93'",
                         dir, "calibrate_cv.svg");
    expect_clean_plot_of("eval " + outcome_file("mmlu_llama_test.jsonl") + " --online --chain llama3.1-8b,llama3.1-405b --seeds 2", dir, "online.svg");
    expect_clean_plot_of("eval " + outcome_file("mmlu_llama_test.jsonl") + " --online --chain llama3.1-8b,llama3.1-405b --seeds 2 --drift degrade:0.4 --train " +
                             outcome_file("mmlu_llama_train.jsonl"),
                         dir, "online_drift.svg");
    expect_clean_plot_of("router train --data " + outcome_file("mmlu_llama_train.jsonl") + " --test " + outcome_file("mmlu_llama_test.jsonl") +
                             " --models llama3.1-8b,llama3.1-70b,llama3.1-405b",
                         dir, "router.svg");
}

TEST(PlotLayout, HiAndSimulate) {
    TempDir dir;
    expect_clean_plot_of("hi --cache " + dir.file("cache") + " --train-limit 3000 --validation 2000 --tiny-epochs 1 --remote-epochs 1 --exit-epochs 1 --json " +
                             dir.file("hi.json"),
                         dir, "hi.svg");
    // hiro hi's own outcomes: on-device, full offload, HI and EE-HI, the last two nearly on top of each other.
    const auto outcomes = nlohmann::json::parse(read_text(dir.file("hi.json")))["outcome_file"].get<std::string>();
    expect_clean_plot_of("simulate " + outcomes + " --devices 20 --samples 20000", dir, "sim.svg");
    expect_clean_plot_of("simulate " + outcome_file("mmlu_llama_test.jsonl") +
                             " --local llama3.1-8b --remote llama3.1-405b --threshold -0.3 --devices 20 --samples 20000 --rate 0.05",
                         dir, "llm.svg");
    expect_clean_plot_of("simulate cluster --endpoints 3 --slots 1 --service-ms 1000 --cloud-ms 800 --deadline-ms 2000 --requests 2000", dir,
                         "cluster.svg");
}

TEST(PlotLayout, BenchMatrix) {
    TempDir dir;
    // Two thread counts of one model: two labelled points, and tokens per joule for each.
    expect_clean_plot_of("bench --matrix " + shared_model("stories260K.gguf") +
                             " --threads 1,2 --prompt-tokens 16 --gen-tokens 8 --repetitions 2 --no-llama-bench --device raspberry-pi-5",
                         dir, "matrix.svg");
    expect_clean_plot(dir.file("matrix-energy.svg"));
}

}  // namespace
}  // namespace hiro::test
