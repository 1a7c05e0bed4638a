#include "server/cascade_tuning.h"

namespace hiro::server {

CascadeTuning::CascadeTuning(std::string route, std::shared_ptr<policy::AdaptiveCascade> cascade, TuningSettings settings, Metrics& metrics,
                             GuardedTier* embedder)
    : route_(std::move(route)), cascade_(std::move(cascade)), settings_(std::move(settings)), metrics_(metrics), embedder_(embedder) {}

bool CascadeTuning::answered(const std::string& id, AnsweredQuery query) {
    const bool can_verify = query.kept + 1 < cascade_->tiers().size();
    query.learn_by = std::chrono::steady_clock::now() + settings_.feedback_window;
    std::lock_guard lock(mutex_);
    const bool verify = can_verify && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < cascade_->epsilon();
    waiting_[id] = std::move(query);
    arrival_.push_back(id);
    while (waiting_.size() > max_waiting_queries) {
        auto oldest = waiting_.find(arrival_.front());
        if (oldest != waiting_.end()) {
            if (!oldest->second.learned) learn(oldest->second);
            waiting_.erase(oldest);
        }
        arrival_.pop_front();
    }
    return verify;
}

void CascadeTuning::labelled(const std::string& id, std::vector<std::optional<bool>> agrees, std::optional<bool> verifier_agrees) {
    std::lock_guard lock(mutex_);
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;  // pushed out by newer queries meanwhile
    AnsweredQuery& q = it->second;
    q.agrees = std::move(agrees);
    q.verifier_agrees = verifier_agrees;
    q.labelled = true;
    if (settings_.feedback_window.count() == 0) {
        learn(q);
        waiting_.erase(it);
    } else if (q.feedback_loss) {
        learn(q);
    }
}

CascadeTuning::Verdict CascadeTuning::feedback(const std::string& id, const std::string& key, bool admin, double score) {
    std::lock_guard lock(mutex_);
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return Verdict::unknown;
    AnsweredQuery& q = it->second;
    if (!admin && q.key != key) return Verdict::not_yours;
    if (q.feedback_loss) return Verdict::already_given;
    q.feedback_loss = 1.0 - score;
    metrics_.add("hiro_feedback_total", {route_, score >= 0.5 ? "right" : "wrong"});
    if (!q.labelled) return Verdict::waiting;  // learned from once the labeller is done
    learn(q);
    return Verdict::learned;
}

void CascadeTuning::learn_expired(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    while (!arrival_.empty()) {
        auto it = waiting_.find(arrival_.front());
        if (it != waiting_.end()) {
            // A query still being verified waits for its label (a verification is bounded by the tier's timeout).
            if (it->second.learn_by > now || !it->second.labelled) return;
            if (!it->second.learned) learn(it->second);
            waiting_.erase(it);
        }
        arrival_.pop_front();
    }
}

void CascadeTuning::learn_all() {
    std::lock_guard lock(mutex_);
    for (auto& [_, q] : waiting_) {
        if (!q.learned) learn(q);
    }
    waiting_.clear();
    arrival_.clear();
}

std::uint64_t CascadeTuning::version() const {
    std::lock_guard lock(mutex_);
    return version_;
}

void CascadeTuning::publish_metrics() {
    const auto thresholds = cascade_->thresholds();
    for (std::size_t i = 0; i < thresholds.size(); ++i) metrics_.set("hiro_cascade_threshold", {route_, cascade_->tiers()[i]}, thresholds[i]);
}

void CascadeTuning::learn(AnsweredQuery& q) {
    q.learned = true;
    const double lambda = cascade_->lambda();
    const std::size_t last = cascade_->tiers().size() - 1;
    const double kept_loss = q.feedback_loss.value_or(0.0);
    for (std::size_t j = 0; j <= q.kept && j < last; ++j) {
        policy::ThresholdObservation o;
        o.confidence = q.confidence[j];
        o.escalated = j < q.kept;
        o.cost_usd = q.cost_usd;
        std::string label = "none";
        if (o.escalated) {
            o.label_probability = 1.0;
            if (j < q.agrees.size() && q.agrees[j]) {
                o.losses = policy::ThresholdObservation::Losses{*q.agrees[j] ? kept_loss : 1.0, lambda * static_cast<double>(q.kept - j) + kept_loss};
                label = q.feedback_loss ? "feedback" : "escalated";
            }
        } else if (q.feedback_loss || q.verifier_agrees) {
            const double accept = q.feedback_loss ? *q.feedback_loss : (*q.verifier_agrees ? 0.0 : 1.0);
            // The next tier is taken as right, unless it agreed with an answer feedback calls wrong.
            const double next = q.verifier_agrees.value_or(false) ? accept : 0.0;
            o.losses = policy::ThresholdObservation::Losses{accept, lambda + next};
            o.label_probability = q.feedback_loss ? 1.0 : cascade_->epsilon();
            label = q.feedback_loss ? "feedback" : "verified";
        } else {
            o.label_probability = cascade_->epsilon();
        }
        cascade_->observe(j, o);
        metrics_.add("hiro_learner_observations_total", {route_, cascade_->tiers()[j], label});
    }
    ++version_;
}

void declare_tuning_metrics(Metrics& m) {
    m.gauge("hiro_cascade_threshold", "an adaptive cascade's current confidence threshold (log-probability), by route and tier", {"route", "tier"});
    m.counter("hiro_feedback_total", "POST /v1/feedback taken, by route and verdict", {"route", "verdict"});
    m.counter("hiro_verifications_total", "kept answers also asked of the next tier in the background, by route and result",
              {"route", "result"});
    m.counter("hiro_verification_cost_usd_total", "what background verification cost", {"route"});
    m.counter("hiro_learner_observations_total", "queries a cascade tier's threshold learned from, by where the label came from",
              {"route", "tier", "label"});
    m.counter("hiro_learner_state_saves_total", "persisted learner states, by route and result", {"route", "result"});
}

}  // namespace hiro::server
