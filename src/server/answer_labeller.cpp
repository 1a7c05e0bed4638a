#include "server/answer_labeller.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "backends/tier_failure.h"
#include "core/answer_match.h"

namespace hiro::server {
namespace {

// The cosine of the first two embeddings of an OpenAI embeddings response; nullopt when it has none.
std::optional<double> cosine_of(const std::string& response) {
    const core::Json r = core::Json::parse(response, nullptr, false);
    if (!r.is_object() || !r.contains("data") || !r["data"].is_array() || r["data"].size() < 2) return std::nullopt;
    std::vector<double> v[2];
    for (std::size_t i = 0; i < 2; ++i) {
        const core::Json& e = r["data"][i];
        if (!e.is_object() || !e.contains("embedding") || !e["embedding"].is_array()) return std::nullopt;
        for (const auto& x : e["embedding"]) {
            if (!x.is_number()) return std::nullopt;
            v[i].push_back(x.get<double>());
        }
    }
    if (v[0].size() != v[1].size() || v[0].empty()) return std::nullopt;
    double dot = 0.0, a = 0.0, b = 0.0;
    for (std::size_t i = 0; i < v[0].size(); ++i) {
        dot += v[0][i] * v[1][i];
        a += v[0][i] * v[0][i];
        b += v[1][i] * v[1][i];
    }
    return a > 0 && b > 0 ? dot / std::sqrt(a * b) : 0.0;
}

}  // namespace

Task<std::optional<bool>> answers_agree(const CascadeTuning& tuning, std::string a, std::string b) {
    const TuningSettings& settings = tuning.settings();
    GuardedTier* embedder = tuning.embedder();
    if (settings.match != "embedding") {
        const core::MatchMode mode = core::parse_match_mode(settings.match);
        const std::string ka = core::judged_answer(a, mode), kb = core::judged_answer(b, mode);
        co_return !ka.empty() && ka == kb;
    }
    const core::Json body = {{"input", {a, b}}};
    std::string error;
    try {
        const std::string response = co_await embedder->tier().embed(body);
        if (const auto cosine = cosine_of(response)) co_return *cosine >= settings.min_cosine;
        error = "its answer holds no two embeddings of one size";
    } catch (const backends::TierFailure& f) {
        error = f.what();
    }
    spdlog::warn("answers could not be compared on tier '{}': {}", embedder->name(), error);
    co_return std::nullopt;
}

Task<void> label_answer(LabelJob job) {
    CascadeTuning& tuning = *job.tuning;
    const std::string& kept = job.answers.back();
    std::vector<std::optional<bool>> agrees;
    for (std::size_t j = 0; j + 1 < job.answers.size(); ++j) {
        agrees.push_back(co_await answers_agree(tuning, job.answers[j], kept));
    }
    std::optional<bool> verified;
    if (job.verifier) {
        const std::string route = tuning.route();
        std::optional<core::Answer> answer;
        const backends::AskOptions options;  // the whole answer, as a client would get it
        try {
            answer = co_await job.verifier->generate(job.query, options);
        } catch (const backends::TierFailure& f) {
            spdlog::warn("request {}: verifying on tier '{}' failed: {}", job.id, job.verifier->name(), f.what());
        }
        if (answer) {
            tuning.metrics().add("hiro_verification_cost_usd_total", {route}, answer->cost_usd);
            verified = co_await answers_agree(tuning, answer->text, kept);
        }
        tuning.metrics().add("hiro_verifications_total", {route, !verified ? "failed" : *verified ? "agreed" : "disagreed"});
    }
    tuning.labelled(job.id, std::move(agrees), verified);
}

}  // namespace hiro::server
