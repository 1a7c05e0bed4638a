#include "policy/policy.h"

#include <cctype>

namespace hiro::policy {

std::string agreement_key(std::string_view answer) {
    std::string out;
    bool space = false;
    for (unsigned char c : answer) {
        if (std::isspace(c)) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += static_cast<char>(std::tolower(c));
    }
    while (!out.empty() && (out.back() == '.' || out.back() == '!')) out.pop_back();
    return out;
}

std::string_view to_string(StopReason reason) {
    switch (reason) {
        case StopReason::only_tier: return "only_tier";
        case StopReason::confident: return "confident";
        case StopReason::last_tier: return "last_tier";
        case StopReason::routed: return "routed";
        case StopReason::agreement: return "agreement";
        case StopReason::oracle: return "oracle";
    }
    return "unknown";
}

std::vector<std::size_t> Decision::tried() const {
    std::vector<std::size_t> out;
    for (const auto& a : asked) out.push_back(a.position);
    return out;
}

std::vector<double> Decision::confidences() const {
    std::vector<double> out;
    for (const auto& a : asked) out.push_back(a.signal.confidence);
    return out;
}

Decision Policy::decide(const QueryView& query, TierAccess& access) const {
    Decision d;
    d.asked.reserve(tiers_.size());
    for (;;) {
        const Step step = next(query, d);
        if (!step.ask) {
            d.chosen = step.position;
            d.reason = step.reason;
            return d;
        }
        d.asked.push_back({step.position, access.ask(step.position)});
    }
}

}  // namespace hiro::policy
