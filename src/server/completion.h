#pragma once

#include "core/openai_protocol.h"
#include "server/metrics.h"
#include "server/response_channel.h"
#include "server/route.h"

namespace hiro::server {

// Answers one chat/completions request through its route: runs the policy
// over live tiers (scoring each answer's confidence), streams or sends the
// kept answer with the `hiro` trace (tiers tried, confidences, why it stopped,
// latency and cost per tier), and on tier failures escalates, fails over
// (continuing a broken stream from the text already sent) or answers with an
// explicit OpenAI error. Runs on a worker thread; blocks until done.
void answer_completion(const core::OpenAIRequest& request, const Route& route, ResponseChannel& channel, Metrics& metrics);

}  // namespace hiro::server
