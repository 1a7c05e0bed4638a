#include "backends/local_request.h"

#include <json-schema-to-grammar.h>
#include <json.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/openai_request.h"

namespace hiro::backends {
namespace {

using core::Json;

[[noreturn]] void refuse(const std::string& what) { throw core::Error(core::ErrorCode::invalid_input, what); }

// What local tiers understand (llama-server's names for the same things
// included); anything else would change the answer's meaning if ignored.
const std::set<std::string, std::less<>> understood{
    "messages", "prompt", "max_tokens", "max_completion_tokens", "n_predict", "temperature", "top_p", "top_k", "min_p", "typical_p",
    "presence_penalty", "frequency_penalty", "repeat_penalty", "repeat_last_n", "seed", "stop", "logit_bias", "n", "logprobs",
    "top_logprobs", "user", "tools", "tool_choice", "parallel_tool_calls", "response_format", "json_schema", "grammar"};

template <class T>
T number(const Json& body, const char* key, T fallback) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_number()) refuse(std::string("'") + key + "' must be a number");
    return it->get<T>();
}

common_json to_common(const Json& j) { return common_json::parse(j.dump(-1, ' ', false, Json::error_handler_t::replace)); }

std::vector<std::string> stops_of(const Json& body) {
    std::vector<std::string> stops;
    auto stop = body.find("stop");
    if (stop == body.end() || stop->is_null()) return stops;
    if (stop->is_string()) return {stop->get<std::string>()};
    if (!stop->is_array()) refuse("'stop' must be a string or an array of strings");
    for (const auto& s : *stop) {
        if (!s.is_string()) refuse("'stop' must be a string or an array of strings");
        stops.push_back(s.get<std::string>());
    }
    return stops;
}

// The JSON schema the answer must follow: response_format (json_object,
// json_schema) or llama-server's json_schema field; null for free text.
Json schema_of(const Json& body) {
    Json schema = body.value("json_schema", Json());
    if (auto format = body.find("response_format"); format != body.end() && !format->is_null()) {
        const std::string type = format->is_object() ? format->value("type", "") : "";
        if (type == "json_object") {
            schema = format->value("schema", Json::object());
        } else if (type == "json_schema") {
            schema = format->value("json_schema", Json::object()).value("schema", Json::object());
        } else if (type != "text") {
            refuse("'response_format.type' must be text, json_object or json_schema");
        }
    }
    if (schema.is_object() && schema.empty()) schema["type"] = "object";  // any object
    return schema;
}

// llama-server's sampling chain for the request's fields, its defaults for the rest.
common_params_sampling sampling_of(const engine::Model& model, const Json& body) {
    common_params_sampling s;
    s.temp = number<float>(body, "temperature", s.temp);
    s.top_p = number<float>(body, "top_p", s.top_p);
    s.top_k = number<int>(body, "top_k", s.top_k);
    s.min_p = number<float>(body, "min_p", s.min_p);
    s.typ_p = number<float>(body, "typical_p", s.typ_p);
    s.penalty_present = number<float>(body, "presence_penalty", s.penalty_present);
    s.penalty_freq = number<float>(body, "frequency_penalty", s.penalty_freq);
    s.penalty_repeat = number<float>(body, "repeat_penalty", s.penalty_repeat);
    s.penalty_last_n = number<int>(body, "repeat_last_n", s.penalty_last_n);
    const auto seed = number<std::int64_t>(body, "seed", -1);
    s.seed = seed < 0 ? LLAMA_DEFAULT_SEED : static_cast<std::uint32_t>(seed);
    if (s.temp < 0 || s.top_p < 0 || s.top_p > 1 || s.min_p < 0 || s.min_p > 1) refuse("'temperature' must be >= 0, 'top_p' and 'min_p' between 0 and 1");
    if (auto bias = body.find("logit_bias"); bias != body.end() && !bias->is_null()) {
        if (!bias->is_object()) refuse("'logit_bias' must map token ids to biases");
        const int vocab = model.vocab_size();
        for (const auto& [token, value] : bias->items()) {
            int id = -1;
            try {
                id = std::stoi(token);
            } catch (const std::exception&) {
            }
            if (id < 0 || id >= vocab || !value.is_number()) refuse("'logit_bias' maps token ids (0.." + std::to_string(vocab - 1) + ") to numbers; got '" + token + "'");
            s.logit_bias.push_back({id, value.get<float>()});
        }
    }
    return s;
}

// The chat rendered with its tools and output format; the grammar, triggers
// and stops it brings go to the sampler, its parser to reading the answer.
void render_chat(const engine::Model& model, const Json& body, LocalRequest& r, common_params_sampling& sampling) {
    common_chat_templates_inputs inputs;
    try {
        inputs.messages = common_chat_msgs_parse_oaicompat(to_common(body.at("messages")));
        inputs.tools = common_chat_tools_parse_oaicompat(to_common(body.value("tools", Json::array())));
        const Json choice = body.value("tool_choice", Json("auto"));
        if (!choice.is_string()) refuse("'tool_choice' must be auto, none or required for local tiers (a named function is not supported)");
        inputs.tool_choice = common_chat_tool_choice_parse_oaicompat(choice.get<std::string>());
    } catch (const core::Error&) {
        throw;
    } catch (const std::exception& e) {
        refuse(std::string("'messages' or 'tools': ") + e.what());
    }
    const Json schema = schema_of(body);
    inputs.json_schema = schema.is_null() ? "" : schema.dump();
    inputs.grammar = body.value("grammar", "");
    if (!inputs.json_schema.empty() && !inputs.grammar.empty()) refuse("'grammar' and a JSON schema cannot be used together");
    if (!inputs.tools.empty() && inputs.tool_choice != COMMON_CHAT_TOOL_CHOICE_NONE && !inputs.grammar.empty()) {
        refuse("'grammar' cannot be used with tools");
    }
    const auto& chat_template = model.chat_template();
    inputs.parallel_tool_calls = body.value("parallel_tool_calls", chat_template.supports_parallel_tool_calls());
    inputs.reasoning_format = COMMON_REASONING_FORMAT_DEEPSEEK;
    // A trailing assistant message is continued, as llama-server's prefill_assistant.
    if (!inputs.messages.empty() && inputs.messages.back().role == "assistant") {
        inputs.continue_final_message = COMMON_CHAT_CONTINUATION_AUTO;
        inputs.add_generation_prompt = false;
    }
    const common_chat_params chat = chat_template.apply(inputs);
    r.generation.prompt = model.tokenize(chat.prompt, true);
    if (!chat.grammar.empty()) sampling.grammar = {COMMON_GRAMMAR_TYPE_TOOL_CALLS, chat.grammar};
    sampling.grammar_lazy = chat.grammar_lazy;
    sampling.generation_prompt = chat.generation_prompt;
    for (const auto& t : chat.preserved_tokens) {
        const auto ids = model.tokenize(t, false);
        if (ids.size() == 1) sampling.preserved_tokens.insert(ids[0]);
    }
    for (const auto& trigger : chat.grammar_triggers) {
        const auto ids = trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_WORD ? model.tokenize(trigger.value, false) : std::vector<engine::Token>{};
        if (ids.size() == 1 && sampling.preserved_tokens.count(ids[0])) {
            sampling.grammar_triggers.push_back({COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN, trigger.value, ids[0]});
        } else {
            sampling.grammar_triggers.push_back(trigger);
        }
    }
    for (const auto& stop : chat.additional_stops) r.generation.params.stop.push_back(stop);
    common_chat_parser_params parser(chat);
    parser.reasoning_format = inputs.reasoning_format;
    parser.parse_tool_calls = !inputs.tools.empty() && inputs.tool_choice != COMMON_CHAT_TOOL_CHOICE_NONE;
    parser.is_continuation = inputs.continue_final_message != COMMON_CHAT_CONTINUATION_NONE;
    if (!chat.parser.empty()) parser.parser.load(chat.parser);
    r.parser = std::move(parser);
}

}  // namespace

LocalRequest read_local_request(const engine::Model& model, const core::Query& query, const Json& defaults, bool need_logprobs) {
    Json body = query.body;
    for (const auto& [key, value] : defaults.items()) {
        if (!body.contains(key)) body[key] = value;
    }
    for (const auto& [key, value] : body.items()) {
        if (!understood.count(key) && !value.is_null()) refuse("'" + key + "' is not supported by local tiers");
    }
    LocalRequest r;
    r.n = number<int>(body, "n", 1);
    if (r.n < 1 || r.n > 16) refuse("'n' must be between 1 and 16 for local tiers");
    auto& p = r.generation.params;
    p.max_tokens = number<int>(body, "max_completion_tokens", number<int>(body, "max_tokens", number<int>(body, "n_predict", -1)));
    p.stop = stops_of(body);
    common_params_sampling sampling = sampling_of(model, body);
    if (query.endpoint == core::Endpoint::chat) {
        render_chat(model, body, r, sampling);
    } else {
        r.generation.prompt = model.tokenize(body.at("prompt").get<std::string>(), true);
        const Json schema = schema_of(body);
        const std::string grammar = body.value("grammar", "");
        if (!schema.is_null()) {
            try {
                sampling.grammar = {COMMON_GRAMMAR_TYPE_OUTPUT_FORMAT, json_schema_to_grammar(to_common(schema))};
            } catch (const std::exception& e) {
                refuse(std::string("the JSON schema cannot be turned into a grammar: ") + e.what());
            }
        } else if (!grammar.empty()) {
            sampling.grammar = {COMMON_GRAMMAR_TYPE_USER, grammar};
        }
    }
    const bool client_logprobs = core::asks_for_logprobs(query);
    r.logprobs = client_logprobs || need_logprobs;
    // llama-server: top_logprobs defaults to 20 when logprobs are asked for without it.
    const int asked_top = query.endpoint == core::Endpoint::chat ? number<int>(body, "top_logprobs", 20)
                                                                 : (client_logprobs ? number<int>(body, "logprobs", 0) : 0);
    p.top_logprobs = client_logprobs ? asked_top : (need_logprobs ? 2 : 0);
    r.generation.sampling = std::make_shared<const common_params_sampling>(std::move(sampling));
    return r;
}

}  // namespace hiro::backends
