#pragma once

#include "core/openai_request.h"
#include "server/client_stream.h"
#include "server/metrics.h"
#include "server/request_trace.h"
#include "server/route.h"

namespace hiro::server {

// Answers one chat/completions request through its route: steps the policy
// over live tiers (awaiting each, scoring its answer's confidence), streams
// or sends the kept answer with the `hiro` trace (tiers tried, confidences,
// why it stopped, latency and cost per tier), and on tier failures escalates,
// fails over (reusing an answer already generated before asking a tier again,
// and continuing a broken stream from the text already sent) or answers with
// an explicit OpenAI error. An upstream's refusal of the request itself (a
// 4xx) goes back to the client as it is. With a latency budget (the
// request's, else the route's), a tier that predicts it cannot answer in time
// is passed over at once for the next one (an "overflow" in the trace).
// An adaptive cascade's route keeps each query it answered for learning
// (labelled in the background; `key`, the API key's name, may give feedback).
// Takes the request's query (moved from); returns the trace.
Task<RequestTrace> answer_completion(core::OpenAIRequest& request, const Route& route, ClientStream& client, Metrics& metrics,
                                     const std::string& request_id, std::optional<double> deadline_ms, const std::string& key);

}  // namespace hiro::server
