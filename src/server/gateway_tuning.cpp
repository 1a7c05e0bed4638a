// The gateway's side of cascades that tune themselves: building each
// adaptive route's tuning and resuming its saved state, the loop that learns
// from answers whose feedback window ended and persists the state, and
// POST /v1/feedback.
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/gateway.h"

namespace hiro::server {
namespace {

using core::Json;

std::string thresholds_text(const policy::AdaptiveCascade& cascade) {
    std::string out;
    const auto now = cascade.thresholds();
    for (std::size_t i = 0; i < now.size(); ++i) out += (i ? ", " : "") + cascade.tiers()[i] + " >= " + std::to_string(now[i]);
    return out;
}

Task<void> respond_invalid(ClientStream& client, int status, const std::string& message, const char* code) {
    co_await client.respond(status, {}, core::openai_error(message, "invalid_request_error", code).dump());
}

}  // namespace

std::shared_ptr<CascadeTuning> Gateway::start_tuning(const PolicySettings& p, const std::shared_ptr<policy::AdaptiveCascade>& cascade) {
    GuardedTier* embedder = p.online.embedding_tier.empty() ? nullptr : tiers_.at(p.online.embedding_tier).get();
    Learner learner{std::make_shared<CascadeTuning>(p.name, cascade, p.online, metrics_, embedder), nullptr, 0};
    if (p.online.state_in_redis || !p.online.state_file.empty()) {
        learner.store = std::make_unique<LearnerStateStore>(p.name, p.online, limiter_.redis());
        if (const auto saved = learner.store->load_file()) {
            try {
                cascade->restore(*saved);
            } catch (const core::Error& e) {
                throw core::Error(core::ErrorCode::invalid_input, "policy '" + p.name + "': the learner state in " + learner.store->where() +
                                                                      " does not fit this policy (" + e.what() +
                                                                      "); delete it to start from the config");
            }
            spdlog::info("policy '{}' resumes from {}: {}", p.name, learner.store->where(), thresholds_text(*cascade));
        }
    }
    learners_.push_back(std::move(learner));
    return learners_.back().tuning;
}

Task<void> Gateway::tend(Learner& learner) {
    CascadeTuning& tuning = *learner.tuning;
    if (learner.store && learner.store->in_redis()) {
        try {
            if (const auto saved = co_await learner.store->load_redis()) {
                tuning.cascade().restore(*saved);
                learner.saved_version = tuning.version();
                spdlog::info("policy '{}' resumes from {}: {}", tuning.route(), learner.store->where(), thresholds_text(tuning.cascade()));
            }
        } catch (const core::Error& e) {
            spdlog::warn("policy '{}' starts from its config, not from {}: {}", tuning.route(), learner.store->where(), e.what());
        }
    }
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    auto next_save = std::chrono::steady_clock::now() + tuning.settings().save_every;
    for (;;) {
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(boost::asio::use_awaitable);
        const auto now = std::chrono::steady_clock::now();
        tuning.learn_expired(now);
        if (now >= next_save) {
            co_await save(learner);
            next_save = now + tuning.settings().save_every;
        }
    }
}

Task<void> Gateway::save(Learner& learner) {
    const std::uint64_t version = learner.tuning->version();
    if (!learner.store || version == learner.saved_version) co_return;
    const std::string& route = learner.tuning->route();
    std::string error;
    try {
        co_await learner.store->save(learner.tuning->cascade().state());
        learner.saved_version = version;
    } catch (const core::Error& e) {
        error = e.what();
    }
    metrics_.add("hiro_learner_state_saves_total", {route, error.empty() ? "saved" : "failed"});
    if (!error.empty()) spdlog::warn("policy '{}': its learner state was not saved to {}: {}", route, learner.store->where(), error);
}

Task<void> Gateway::save_learners() {
    for (auto& learner : learners_) {
        learner.tuning->learn_all();
        co_await save(learner);
    }
}

Task<void> Gateway::handle_feedback(const GatewayRequest& request, ClientStream& client, const Outcome& outcome) {
    if (request.method != "POST") {
        co_await respond_invalid(client, 405, "/v1/feedback takes POST {id, correct} or {id, score}", "method_not_allowed");
        co_return;
    }
    const Json body = Json::parse(request.body, nullptr, false);
    std::string invalid;
    if (!body.is_object()) {
        invalid = "the body must be a JSON object: {\"id\": \"hiro-...\", \"correct\": true} or {\"id\": ..., \"score\": 0.8}";
    } else {
        for (const auto& [field, _] : body.items()) {
            if (field != "id" && field != "correct" && field != "score") invalid = "unknown field '" + field + "' (feedback takes id, and correct or score)";
        }
        if (invalid.empty() && (!body.contains("id") || !body["id"].is_string())) {
            invalid = "'id' must be the answer's id: its x-request-id header, also in hiro.id";
        } else if (invalid.empty() && body.contains("correct") == body.contains("score")) {
            invalid = "give either 'correct' (true or false) or 'score' (0 = wrong to 1 = right), one of them";
        } else if (invalid.empty() && body.contains("correct") && !body["correct"].is_boolean()) {
            invalid = "'correct' must be true or false";
        } else if (invalid.empty() && body.contains("score") && !(body["score"].is_number() && body["score"].get<double>() >= 0 &&
                                                                  body["score"].get<double>() <= 1)) {
            invalid = "'score' must be a number from 0 (wrong) to 1 (right)";
        }
    }
    if (!invalid.empty()) {
        co_await respond_invalid(client, 400, invalid, "invalid_feedback");
        co_return;
    }
    const std::string id = body["id"].get<std::string>();
    const double score = body.contains("correct") ? (body["correct"].get<bool>() ? 1.0 : 0.0) : body["score"].get<double>();
    for (auto& learner : learners_) {
        CascadeTuning& tuning = *learner.tuning;
        const auto verdict = tuning.feedback(id, outcome.key, outcome.admin, score);
        if (verdict == CascadeTuning::Verdict::unknown) continue;
        if (verdict == CascadeTuning::Verdict::not_yours) {
            co_await client.respond(403, {}, core::openai_error("answer '" + id + "' was given to another API key", "permission_error", "not_your_answer").dump());
            co_return;
        }
        if (verdict == CascadeTuning::Verdict::already_given) {
            co_await respond_invalid(client, 409, "answer '" + id + "' already has its feedback", "feedback_already_given");
            co_return;
        }
        Json thresholds = Json::object();
        const auto now = tuning.cascade().thresholds();
        for (std::size_t i = 0; i < now.size(); ++i) thresholds[tuning.cascade().tiers()[i]] = now[i];
        const Json answer = {{"id", id}, {"route", tuning.route()}, {"learned", verdict == CascadeTuning::Verdict::learned}, {"thresholds", thresholds}};
        co_await client.respond(200, {}, answer.dump());
        co_return;
    }
    std::string routes;
    for (const auto& learner : learners_) {
        routes += (routes.empty() ? "" : ", ") + learner.tuning->route() + " (" +
                  std::to_string(learner.tuning->settings().feedback_window.count()) + " s)";
    }
    // Named first: GCC 12 destroys a conditional's temporary twice inside co_await.
    const std::string message = routes.empty() ? "this gateway serves no adaptive_cascade policy: nothing here learns from feedback"
                                               : "no answer '" + id + "' is waiting for feedback: give the id (x-request-id, or hiro.id) of an answer of an "
                                                                      "adaptive_cascade policy within its online.feedback_window_s: " + routes;
    co_await respond_invalid(client, 404, message, "unknown_answer");
}

}  // namespace hiro::server
