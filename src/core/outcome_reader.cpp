#include "core/outcome_reader.h"

#include <simdjson.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/line_reader.h"

namespace hiro::core {
namespace {

namespace od = simdjson::ondemand;

// Python's json module writes -inf as the bare token -Infinity. simdjson (like
// every strict parser) rejects it, so such tokens are quoted outside strings
// and read back by number_of(). Lines without them are left untouched.
bool quote_nonfinite_tokens(std::string& line) {
    if (line.find("Infinity") == std::string::npos && line.find("NaN") == std::string::npos) return false;
    std::string out;
    out.reserve(line.size() + 16);
    bool in_string = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < line.size()) out += line[++i];
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        bool replaced = false;
        for (std::string_view token : {"-Infinity", "Infinity", "NaN"}) {
            if (line.compare(i, token.size(), token) == 0) {
                out += '"';
                out += token;
                out += '"';
                i += token.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) out += c;
    }
    line = std::move(out);
    return true;
}

class LineParser {
public:
    LineParser(const std::string& source, std::size_t line) : where_(source + " line " + std::to_string(line)) {}

    [[noreturn]] void fail(const std::string& what) const { throw Error(ErrorCode::invalid_input, where_ + ": " + what); }

    void check(simdjson::error_code err, const std::string& field) const {
        if (err) fail((field.empty() ? "" : "at " + field + ": ") + "not valid JSON (" + simdjson::error_message(err) + ")");
    }

    static std::string_view type_name(od::json_type t) {
        switch (t) {
            case od::json_type::array: return "an array";
            case od::json_type::object: return "an object";
            case od::json_type::number: return "a number";
            case od::json_type::string: return "a string";
            case od::json_type::boolean: return "a boolean";
            case od::json_type::null: return "null";
        }
        return "unknown";
    }

    od::json_type type_of(od::value& v, const std::string& field) const {
        od::json_type t = od::json_type::null;
        check(v.type().get(t), field);
        return t;
    }

    [[noreturn]] void wrong_type(const std::string& field, std::string_view want, od::json_type got) const {
        fail(field + " must be " + std::string(want) + " (got " + std::string(type_name(got)) + ")");
    }

    std::string string_of(od::value& v, const std::string& field) const {
        auto t = type_of(v, field);
        if (t != od::json_type::string) wrong_type(field, "a string", t);
        std::string_view s;
        check(v.get_string().get(s), field);
        return std::string(s);
    }

    bool bool_of(od::value& v, const std::string& field) const {
        auto t = type_of(v, field);
        if (t != od::json_type::boolean) wrong_type(field, "a boolean", t);
        bool b = false;
        check(v.get_bool().get(b), field);
        return b;
    }

    double number_of(od::value& v, const std::string& field) const {
        auto t = type_of(v, field);
        if (t == od::json_type::string) {
            std::string_view s;
            check(v.get_string().get(s), field);
            if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
            if (s == "Infinity") return std::numeric_limits<double>::infinity();
            if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
        }
        if (t != od::json_type::number) wrong_type(field, "a number", t);
        double d = 0.0;
        check(v.get_double().get(d), field);
        return d;
    }

    std::int64_t count_of(od::value& v, const std::string& field) const {
        double d = number_of(v, field);
        if (!std::isfinite(d) || d < 0 || d != std::floor(d)) fail(field + " must be a whole number >= 0");
        return static_cast<std::int64_t>(d);
    }

    // Calls fn(key, value) for each field of an object, failing when v is not one.
    template <class Fn>
    void for_each_field(od::value& v, const std::string& prefix, std::string_view want, Fn&& fn) const {
        auto t = type_of(v, prefix);
        if (t != od::json_type::object) wrong_type(prefix, want, t);
        od::object obj;
        check(v.get_object().get(obj), prefix);
        for (auto field : obj) {
            std::string_view key;
            check(field.unescaped_key().get(key), prefix);
            od::value value;
            check(field.value().get(value), prefix);
            fn(key, value);
        }
    }

    std::map<std::string, double, std::less<>> signals_of(od::value& v, const std::string& prefix) const {
        std::map<std::string, double, std::less<>> signals;
        for_each_field(v, prefix, "an object {SIGNAL: number}", [&](std::string_view key, od::value& value) {
            const std::string name = prefix + "." + std::string(key);
            const double d = number_of(value, name);
            if (std::isnan(d)) fail(name + " is NaN");
            signals.emplace(key, d);
        });
        return signals;
    }

    ModelOutcome model_of(od::value& v, const std::string& prefix) const {
        ModelOutcome m;
        bool has_correct = false;
        for_each_field(v, prefix, "an object", [&](std::string_view key, od::value& value) {
            const std::string name = prefix + "." + std::string(key);
            if (key == "correct") {
                m.correct = bool_of(value, name);
                has_correct = true;
            } else if (key == "score") {
                m.score = number_of(value, name);
            } else if (key == "confidence") {
                m.confidence = number_of(value, name);
            } else if (key == "cost_usd") {
                m.cost_usd = number_of(value, name);
            } else if (key == "latency_ms") {
                m.latency_ms = number_of(value, name);
            } else if (key == "tokens_in") {
                m.tokens_in = count_of(value, name);
            } else if (key == "tokens_out") {
                m.tokens_out = count_of(value, name);
            } else if (key == "signals") {
                m.signals = signals_of(value, name);
            } else if (key == "answer") {
                if (type_of(value, name) != od::json_type::null) m.answer = string_of(value, name);
            }
        });
        if (!has_correct) fail(prefix + ".correct is missing (every model needs \"correct\": true or false)");
        if (m.confidence && std::isnan(*m.confidence)) fail(prefix + ".confidence is NaN");
        // -inf (Python's -Infinity: the answer was impossible) is a valid
        // log-probability; a hair above 0 is rounding in the tool that wrote it.
        if (m.confidence && *m.confidence > 1e-9) {
            fail(prefix + ".confidence is " + number_text(*m.confidence) + ", but confidences are log-probabilities (at most 0)");
        }
        if (m.cost_usd && std::isnan(*m.cost_usd)) fail(prefix + ".cost_usd is NaN");
        if (m.cost_usd && *m.cost_usd < 0) {
            fail(prefix + ".cost_usd is " + number_text(*m.cost_usd) + ", but a cost cannot be negative");
        }
        return m;
    }

    // 0.5 as "0.5", not "0.500000".
    static std::string number_text(double d) {
        std::ostringstream out;
        out << d;
        return out.str();
    }

private:
    std::string where_;
};

// Reads one line's models into `record` (indexed like set.models) and returns
// which of the file's models it has. Strict mode requires line 1's models on
// every line; otherwise a model first seen later joins the file's list.
std::vector<bool> parse_models(const LineParser& p, od::value& v, OutcomeSet& set, OutcomeRecord& record, bool strict) {
    const bool first = set.models.empty();
    std::vector<bool> seen(set.models.size(), false);
    p.for_each_field(v, "models", "an object", [&](std::string_view key, od::value& value) {
        ModelOutcome outcome = p.model_of(value, "models." + std::string(key));
        std::size_t i = 0;
        while (i < set.models.size() && set.models[i] != key) ++i;
        if (i == set.models.size()) {
            if (strict && !first) {
                p.fail("models." + std::string(key) + " is not among the models of line 1; every line must list the same models");
            }
            set.models.emplace_back(key);
            seen.push_back(false);
        }
        if (seen[i]) p.fail("models." + std::string(key) + " appears twice");
        seen[i] = true;
        if (record.models.size() < set.models.size()) record.models.resize(set.models.size());
        record.models[i] = std::move(outcome);
    });
    if (set.models.empty()) p.fail("models is empty: list at least one model's outcome");
    if (strict) {
        for (std::size_t i = 0; i < seen.size(); ++i) {
            if (!seen[i]) p.fail("models." + set.models[i] + " is missing (line 1 has it; every line must list the same models)");
        }
    }
    return seen;
}

// Keeps only the queries that have an outcome for every model of the file,
// and says what was dropped.
void drop_incomplete(OutcomeSet& set, const std::vector<std::vector<bool>>& present, const std::vector<std::size_t>& line_of) {
    std::vector<OutcomeRecord> kept;
    kept.reserve(set.records.size());
    for (std::size_t r = 0; r < set.records.size(); ++r) {
        std::size_t missing = set.models.size();
        for (std::size_t m = 0; m < set.models.size(); ++m) {
            if (m >= present[r].size() || !present[r][m]) {
                missing = m;
                break;
            }
        }
        if (missing == set.models.size()) {
            kept.push_back(std::move(set.records[r]));
        } else if (set.dropped++ == 0) {
            set.first_dropped = "line " + std::to_string(line_of[r]) + " has no outcome for " + set.models[missing];
        }
    }
    set.records = std::move(kept);
}

}  // namespace

OutcomeSet read_outcomes(const std::string& path, const ReadOptions& options) {
    LineReader reader(path);
    std::vector<std::vector<bool>> present;  // per kept record: which models it has
    std::vector<std::size_t> line_of;
    OutcomeSet set;
    set.source = path;
    od::parser parser;
    std::string line;
    while (reader.next(line)) {
        const std::size_t n = reader.line_number();
        // Windows tools (Notepad, PowerShell's Out-File) start UTF-8 files with a byte-order mark.
        if (n == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        LineParser p(path, n);
        quote_nonfinite_tokens(line);
        line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
        od::document doc;
        p.check(parser.iterate(line.data(), line.size(), line.capacity()).get(doc), "");
        od::object obj;
        if (doc.get_object().get(obj)) p.fail("not a JSON object (each line must be one query: {\"prompt\": ..., \"models\": {...}})");

        OutcomeRecord record;
        record.models.resize(set.models.size());
        std::vector<bool> has;
        bool has_prompt = false;
        bool has_models = false;
        for (auto field : obj) {
            std::string_view key;
            p.check(field.unescaped_key().get(key), "");
            od::value value;
            p.check(field.value().get(value), std::string(key));
            if (key == "models") {
                has = parse_models(p, value, set, record, options.strict);
                has_models = true;
            } else if (key == "prompt") {
                record.prompt = p.string_of(value, "prompt");
                has_prompt = true;
            } else if (key == "id") {
                record.id = p.type_of(value, "id") == od::json_type::number
                                ? std::to_string(p.count_of(value, "id"))
                                : p.string_of(value, "id");
            } else if (key == "task") {
                record.task = p.string_of(value, "task");
            } else if (key == "split") {
                record.split = p.string_of(value, "split");
            } else if (key == "subject") {
                record.subject = p.string_of(value, "subject");
            } else if (key == "system") {
                record.system = p.string_of(value, "system");
            } else if (key == "gold") {
                if (p.type_of(value, "gold") != od::json_type::null) record.gold = p.string_of(value, "gold");
            } else if (key == "confidence_signal" && set.confidence_signal.empty()) {
                set.confidence_signal = p.string_of(value, "confidence_signal");
            }
        }
        if (!has_prompt) p.fail("prompt is missing");
        if (!has_models) p.fail("models is missing");
        if (record.id.empty()) record.id = std::to_string(n);
        set.records.push_back(std::move(record));
        present.push_back(std::move(has));
        line_of.push_back(n);
    }
    drop_incomplete(set, present, line_of);
    if (set.records.empty()) {
        throw Error(ErrorCode::invalid_input,
                    set.dropped ? path + " has no query with an outcome for every model (" + set.first_dropped + ")"
                                : path + " has no queries: the file is empty (expected one JSON object per line)");
    }
    return set;
}

}  // namespace hiro::core
