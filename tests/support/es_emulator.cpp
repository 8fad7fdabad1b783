// Elasticsearch emulator for tests: a POSIX-socket HTTP/1.1 server (thread per connection)
// implementing what bts-stress and bitshares-core's ES plugins send, with fault injection.
#include "es_emulator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bts::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string b64(std::string_view in) {
    static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += k[v >> 18];
        out += k[(v >> 12) & 63];
        out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
    // '*' only, as Elasticsearch index patterns and path_match use it.
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        auto pos = s.find(sep, start);
        out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int v = 0;
            std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            out += static_cast<char>(v);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Query parameter `key` of "a=1&b=2", decoded; nullopt if absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key) {
    for (const auto& pair : split(query, '&')) {
        auto eq = pair.find('=');
        if (pair.substr(0, eq) != key) continue;
        if (eq == std::string::npos) return std::string();
        std::string raw = pair.substr(eq + 1);
        std::replace(raw.begin(), raw.end(), '+', ' ');
        return url_decode(raw);
    }
    return std::nullopt;
}

bool flag_param(std::string_view query, std::string_view key) {
    auto v = query_param(query, key);
    return v && (v->empty() || *v == "true");
}

// Value at a dotted path of a _source (also accepts literal dotted keys, as ES does).
const json* lookup(const json& doc, std::string_view path) {
    if (!doc.is_object()) return nullptr;
    // "<field>.keyword": the keyword sub-field dynamic mapping adds to every string.
    if (path.size() > 8 && path.ends_with(".keyword")) {
        if (const json* v = lookup(doc, path.substr(0, path.size() - 8)); v && (v->is_string() || v->is_array()))
            return v;
    }
    auto it = doc.find(std::string(path));
    if (it != doc.end()) return &*it;
    for (std::size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
        auto head = doc.find(std::string(path.substr(0, dot)));
        if (head != doc.end())
            if (const json* v = lookup(*head, path.substr(dot + 1))) return v;
    }
    return nullptr;
}

struct HttpRequest {
    std::string method, path, query;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    bool keep_alive = true;
};

struct HttpReply {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    enum class Action { kSend, kDrop, kStall, kReset } action = Action::kSend;
};

const char* reason_phrase(int s) {
    switch (s) {
        case 200: return "OK";
        case 201: return "Created";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 409: return "Conflict";
        case 413: return "Request Entity Too Large";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        default: return "Status";
    }
}

json es_error(int status, const std::string& type, const std::string& reason) {
    json cause = {{"type", type}, {"reason", reason}};
    return {{"error", {{"root_cause", json::array({cause})}, {"type", type}, {"reason", reason}}}, {"status", status}};
}

HttpReply reply(int status, const json& body) { return HttpReply{status, body.dump(), {}}; }

struct Doc {
    std::string text;  // _source as received; parsed only when searched (the hot path is _bulk)
    std::uint64_t version = 1;
    std::uint64_t seq_no = 0;
};

struct Index {
    std::string name;
    std::string uuid;
    std::map<std::string, std::string> fields;  // dotted path → type ("long", "keyword", "object", ...)
    std::set<std::string> disabled;             // objects with enabled: false
    json dynamic_templates = json::array();
    std::map<std::string, Doc> docs;
    std::vector<std::string> order;  // _ids in insertion order (search results)
    std::uint64_t next_seq = 0;
};

void flatten_mapping(const json& props, const std::string& prefix, Index& ix) {
    if (!props.is_object()) return;
    for (auto it = props.begin(); it != props.end(); ++it) {
        std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
        const json& m = it.value();
        std::string type = m.contains("type") && m["type"].is_string() ? m["type"].get<std::string>() : "object";
        ix.fields[path] = type;
        if (m.contains("enabled") && m["enabled"] == false) ix.disabled.insert(path);
        if (m.contains("properties")) flatten_mapping(m["properties"], path, ix);
    }
}

}  // namespace

std::vector<EsFaultPhase> parse_fault_schedule(const std::string& text) {
    std::vector<EsFaultPhase> phases;
    if (text.empty()) return phases;
    static const std::set<std::string> kModes = {"ok",       "refuse",    "unavailable", "drop",     "stall",
                                                 "bulk_429", "items_429", "items_503",   "items_400"};
    for (const auto& part : split(text, ',')) {
        EsFaultPhase ph;
        std::string spec = part;
        auto colon = spec.find(':');
        if (colon != std::string::npos) {
            std::string d = spec.substr(colon + 1);
            spec.resize(colon);
            double value = 0;
            std::string unit;
            std::size_t i = 0;
            while (i < d.size() && (std::isdigit(static_cast<unsigned char>(d[i])) || d[i] == '.')) ++i;
            try {
                value = std::stod(d.substr(0, i));
            } catch (...) {
                throw std::invalid_argument("bad duration in fault \"" + part + "\"");
            }
            unit = d.substr(i);
            double ms = unit == "ms" ? value : unit == "s" || unit.empty() ? value * 1000 : unit == "m" ? value * 60000 : -1;
            if (ms < 0) throw std::invalid_argument("bad duration unit in fault \"" + part + "\"");
            ph.duration = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
        }
        auto eq = spec.find('=');
        if (eq != std::string::npos) {
            try {
                ph.fraction = std::stod(spec.substr(eq + 1));
            } catch (...) {
                throw std::invalid_argument("bad fraction in fault \"" + part + "\"");
            }
            spec.resize(eq);
        }
        if (!kModes.count(spec)) throw std::invalid_argument("unknown fault mode \"" + spec + "\"");
        ph.mode = spec;
        phases.push_back(ph);
    }
    return phases;
}


// Streams a document through the index mapping without building a DOM: a scalar is checked by
// its path (Impl::check_value), an object by whether its path is mapped as an object; objects
// mapped with enabled: false are skipped whole.
template <class Impl, class Index>
class MappingValidator : public nlohmann::json_sax<json> {
public:
    MappingValidator(Impl& impl, Index& ix) : impl_(impl), ix_(ix) {}
    std::string error;

    bool null() override { return started() && true; }
    bool boolean(bool v) override { return scalar(json(v)); }
    bool number_integer(number_integer_t v) override { return scalar(json(v)); }
    bool number_unsigned(number_unsigned_t v) override { return scalar(json(v)); }
    bool number_float(number_float_t v, const string_t&) override { return scalar(json(v)); }
    bool string(string_t& v) override { return scalar(json(v)); }
    bool binary(binary_t&) override { return scalar(json()); }
    bool start_object(std::size_t) override {
        if (skip_ > 0) return ++skip_, true;
        if (paths_.empty()) {
            root_ = true;
            paths_.emplace_back();
            arrays_.push_back(false);
            return true;
        }
        std::string path = value_path();
        if (ix_.disabled.count(path)) return skip_ = 1, true;
        auto it = ix_.fields.find(path);
        std::string type = it != ix_.fields.end() ? it->second : impl_.dynamic_type(ix_, path, json::object());
        if (it == ix_.fields.end()) ix_.fields[path] = type;
        if (type != "object" && type != "nested") {
            error = "failed to parse field [" + path + "] of type [" + type +
                    "] in document: found an object where a concrete value was expected";
            return false;
        }
        paths_.push_back(std::move(path));
        arrays_.push_back(false);
        return true;
    }
    bool end_object() override { return pop(); }
    bool start_array(std::size_t) override {
        if (skip_ > 0) return ++skip_, true;
        if (!started()) return false;
        paths_.push_back(value_path());
        arrays_.push_back(true);
        return true;
    }
    bool end_array() override { return pop(); }
    bool key(string_t& k) override {
        if (skip_ == 0) key_ = k;
        return true;
    }
    bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception&) override {
        error = "failed to parse: invalid JSON at byte " + std::to_string(pos);
        return false;
    }

private:
    bool started() {
        if (!root_) error = "failed to parse: the document is not a JSON object";
        return root_;
    }
    std::string value_path() const {
        if (arrays_.back()) return paths_.back();
        return paths_.back().empty() ? key_ : paths_.back() + "." + key_;
    }
    bool scalar(const json& v) {
        if (skip_ > 0) return true;
        if (!started()) return false;
        error = impl_.check_value(ix_, value_path(), v);
        return error.empty();
    }
    bool pop() {
        if (skip_ > 0) return --skip_, true;
        paths_.pop_back();
        arrays_.pop_back();
        return true;
    }

    Impl& impl_;
    Index& ix_;
    std::vector<std::string> paths_;
    std::vector<bool> arrays_;
    std::string key_;
    int skip_ = 0;
    bool root_ = false;
};

// A Lucene query_string of the shapes bitshares-core's plugin sends ("account_history.account:
// 1.2.17 AND operation_id_num: [0 TO 40]"): field:value, field:"phrase", field:[a TO b] / {a TO b}
// (any mix of brackets, * open), field:pre*, AND/OR/NOT/&&/||/!, parentheses; terms without an
// operator are OR'ed (default_operator). A term without a field → std::invalid_argument.
class QueryString {
public:
    explicit QueryString(const std::string& text) {
        tokenize(text);
        pos_ = 0;
        if (tokens_.empty()) throw std::invalid_argument("query_string: empty query");
    }

    bool matches(const std::string& id, const json& doc) {
        pos_ = 0;
        bool r = parse_or(id, doc);
        if (pos_ != tokens_.size()) throw std::invalid_argument("query_string: unexpected [" + tokens_[pos_] + "]");
        return r;
    }

private:
    void tokenize(const std::string& t) {
        std::size_t i = 0;
        while (i < t.size()) {
            char c = t[i];
            if (std::isspace(static_cast<unsigned char>(c))) {
                ++i;
            } else if (c == '(' || c == ')') {
                tokens_.emplace_back(1, c);
                ++i;
            } else if (c == '"') {
                auto end = t.find('"', i + 1);
                if (end == std::string::npos) throw std::invalid_argument("query_string: unterminated quote");
                tokens_.push_back(t.substr(i, end - i + 1));
                i = end + 1;
            } else if (c == '[' || c == '{') {
                auto end = t.find_first_of("]}", i);
                if (end == std::string::npos) throw std::invalid_argument("query_string: unterminated range");
                tokens_.push_back(t.substr(i, end - i + 1));
                i = end + 1;
            } else {
                std::size_t j = i;
                while (j < t.size() && !std::isspace(static_cast<unsigned char>(t[j])) && t[j] != '(' && t[j] != ')' &&
                       t[j] != ':')
                    ++j;
                if (j < t.size() && t[j] == ':') ++j;  // "field:" is its own token
                tokens_.push_back(t.substr(i, j - i));
                i = j;
            }
        }
    }
    bool at(const char* a, const char* b = nullptr) const {
        return pos_ < tokens_.size() && (tokens_[pos_] == a || (b && tokens_[pos_] == b));
    }
    bool parse_or(const std::string& id, const json& doc) {
        bool r = parse_and(id, doc);
        while (pos_ < tokens_.size() && !at(")")) {
            if (at("OR", "||")) ++pos_;
            r = parse_and(id, doc) || r;  // evaluate both: the parser must consume every token
        }
        return r;
    }
    bool parse_and(const std::string& id, const json& doc) {
        bool r = parse_unary(id, doc);
        while (at("AND", "&&")) {
            ++pos_;
            r = parse_unary(id, doc) && r;
        }
        return r;
    }
    bool parse_unary(const std::string& id, const json& doc) {
        if (pos_ >= tokens_.size()) throw std::invalid_argument("query_string: incomplete query");
        if (at("NOT", "!")) {
            ++pos_;
            return !parse_unary(id, doc);
        }
        if (at("(")) {
            ++pos_;
            bool r = parse_or(id, doc);
            if (!at(")")) throw std::invalid_argument("query_string: missing )");
            ++pos_;
            return r;
        }
        std::string field = tokens_[pos_++];
        if (field.empty() || field.back() != ':' || pos_ >= tokens_.size())
            throw std::invalid_argument("query_string: [" + field + "] has no field (default_field is not emulated)");
        field.pop_back();
        return term(field, tokens_[pos_++], id, doc);
    }
    static json as_value(const std::string& s) {
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0') return d;
        return s;
    }
    static int cmp(const json& a, const json& b) {
        if (a.is_number() && b.is_number()) {
            double x = a.get<double>(), y = b.get<double>();
            return x < y ? -1 : x > y ? 1 : 0;
        }
        std::string x = a.is_string() ? a.get<std::string>() : a.dump();
        std::string y = b.is_string() ? b.get<std::string>() : b.dump();
        return x.compare(y) < 0 ? -1 : x == y ? 0 : 1;
    }
    static bool one(const std::string& value, const json& v) {
        if (value.size() >= 2 && (value[0] == '[' || value[0] == '{')) {
            std::string inner = value.substr(1, value.size() - 2);
            auto to = inner.find(" TO ");
            if (to == std::string::npos) throw std::invalid_argument("query_string: range without TO");
            auto trim = [](std::string x) {
                x.erase(0, x.find_first_not_of(' '));
                x.erase(x.find_last_not_of(' ') + 1);
                return x;
            };
            std::string lo = trim(inner.substr(0, to)), hi = trim(inner.substr(to + 4));
            bool lo_incl = value[0] == '[', hi_incl = value.back() == ']';
            if (lo != "*") {
                int c = cmp(v, as_value(lo));
                if (c < 0 || (c == 0 && !lo_incl)) return false;
            }
            if (hi != "*") {
                int c = cmp(v, as_value(hi));
                if (c > 0 || (c == 0 && !hi_incl)) return false;
            }
            return true;
        }
        std::string text = value;
        if (text.size() >= 2 && text.front() == '"') text = text.substr(1, text.size() - 2);
        std::string have = v.is_string() ? v.get<std::string>() : v.dump();
        if (value.front() != '"' && text.find('*') != std::string::npos) return glob_match(text, have);
        return have == text || (v.is_number() && as_value(text).is_number() && cmp(v, as_value(text)) == 0);
    }
    static bool term(const std::string& field, const std::string& value, const std::string& id, const json& doc) {
        if (field == "_id") return one(value, json(id));
        const json* v = lookup(doc, field);
        if (!v) return false;
        if (v->is_array()) {
            for (const auto& e : *v)
                if (one(value, e)) return true;
            return false;
        }
        return one(value, *v);
    }

    std::vector<std::string> tokens_;
    std::size_t pos_ = 0;
};

struct EsEmulator::Impl {
    Options opt;
    int listen_fd = -1;
    std::uint16_t port = 0;
    std::atomic<bool> stopping{false};
    std::thread acceptor;

    mutable std::mutex mu;  // everything below
    std::map<std::string, json> templates;
    std::map<std::string, Index> indices;
    std::vector<EsFaultPhase> phases;
    Clock::time_point phases_start = Clock::now();
    std::mt19937_64 rng;
    std::uint64_t uuid_counter = 0;
    std::map<std::string, std::uint64_t, std::less<>> counters = {
        {"requests", 0},      {"bulk_requests", 0},  {"items", 0},          {"items_created", 0},
        {"items_updated", 0}, {"items_conflict", 0}, {"items_429", 0},      {"items_503", 0},
        {"items_400", 0},     {"items_rejected", 0}, {"refused_connections", 0},
        {"unavailable", 0},   {"dropped", 0},        {"stalled", 0},        {"bulk_429", 0},
        {"unauthorized", 0},  {"connections", 0},        {"items_deleted", 0},  {"items_not_found", 0}};
    std::vector<std::string> received_log;  // "METHOD target" outside /_emulator/
    std::map<std::string, json> ilm_policies;
    json cluster_settings = {{"persistent", json::object()}, {"transient", json::object()}};

    int major_version() const { return std::atoi(opt.version.c_str()); }
    static std::string version_type_of(const json& meta) {
        return meta.contains("version_type") && meta["version_type"].is_string() ? meta["version_type"].get<std::string>()
                                                                                  : "internal";
    }

    std::mutex conn_mu;
    std::list<std::pair<int, std::thread>> conns;
    std::condition_variable stall_cv;
    std::mutex stall_mu;

    // The phase in force, and when it ends (time_point::max() if open-ended). Caller holds mu.
    const EsFaultPhase* fault_locked(Clock::time_point* ends = nullptr) const {
        auto t = phases_start;
        for (const auto& ph : phases) {
            if (ph.duration.count() == 0) {
                if (ends) *ends = Clock::time_point::max();
                return &ph;
            }
            t += ph.duration;
            if (Clock::now() < t) {
                if (ends) *ends = t;
                return &ph;
            }
        }
        return nullptr;
    }

    void bump(std::string_view name, std::uint64_t n = 1) {
        auto it = counters.find(name);
        if (it != counters.end()) it->second += n;
    }
    json counters_json() const {
        json j = json::object();
        for (const auto& [k, v] : counters) j[k] = v;
        return j;
    }

    // ---- mapping -----------------------------------------------------------------------------

    Index& index_locked(const std::string& name) {
        auto it = indices.find(name);
        if (it != indices.end()) return it->second;
        Index ix;
        ix.name = name;
        ix.uuid = "emu" + std::to_string(++uuid_counter);
        // The matching template with the highest priority (ES: exactly one applies).
        const json* best = nullptr;
        long best_priority = -1;
        for (const auto& [tname, t] : templates) {
            if (!t.contains("index_patterns")) continue;
            long prio = t.value("priority", 0L);
            for (const auto& p : t["index_patterns"])
                if (p.is_string() && glob_match(p.get<std::string>(), name) && prio > best_priority) {
                    best = &t;
                    best_priority = prio;
                }
        }
        if (best && best->contains("template") && (*best)["template"].contains("mappings")) {
            const json& m = (*best)["template"]["mappings"];
            if (m.contains("properties")) flatten_mapping(m["properties"], "", ix);
            if (m.contains("dynamic_templates")) ix.dynamic_templates = m["dynamic_templates"];
        }
        return indices.emplace(name, std::move(ix)).first->second;
    }

    static std::string json_kind(const json& v) {
        if (v.is_string()) return "string";
        if (v.is_boolean()) return "boolean";
        if (v.is_number_integer()) return "long";
        if (v.is_number_float()) return "double";
        if (v.is_object()) return "object";
        return "other";
    }

    std::string dynamic_type(const Index& ix, const std::string& path, const json& v) const {
        std::string kind = json_kind(v);
        for (const auto& entry : ix.dynamic_templates) {
            if (!entry.is_object() || entry.empty()) continue;
            const json& t = entry.begin().value();
            if (t.contains("path_match") && !glob_match(t["path_match"].get<std::string>(), path)) continue;
            if (t.contains("match_mapping_type")) {
                std::string mmt = t["match_mapping_type"].get<std::string>();
                if (mmt != "*" && mmt != kind) continue;
            }
            if (t.contains("mapping") && t["mapping"].contains("type")) return t["mapping"]["type"];
            if (t.contains("mapping")) return kind == "object" ? "object" : "keyword";
        }
        if (kind == "string") return "text";
        if (kind == "double") return "float";
        return kind;
    }

    // Checks `v` against the mapping type of `path`; adds dynamic fields. "" when fine.
    std::string check_value(Index& ix, const std::string& path, const json& v) {
        if (v.is_null()) return {};
        if (ix.disabled.count(path)) return {};  // enabled: false — its children are never visited
        if (v.is_array()) {
            for (const auto& e : v)
                if (auto err = check_value(ix, path, e); !err.empty()) return err;
            return {};
        }
        auto it = ix.fields.find(path);
        std::string type = path.empty() ? "object" : it != ix.fields.end() ? it->second : dynamic_type(ix, path, v);
        if (it == ix.fields.end() && !path.empty()) ix.fields[path] = type;
        auto bad = [&](const std::string& why) {
            return "failed to parse field [" + path + "] of type [" + type + "] in document: " + why;
        };
        if (type == "object" || type == "nested") {
            if (!v.is_object())
                return "object mapping for [" + path + "] tried to parse field [" + path +
                       "] as object, but found a concrete value";
            for (auto f = v.begin(); f != v.end(); ++f)
                if (auto err = check_value(ix, path.empty() ? f.key() : path + "." + f.key(), f.value()); !err.empty())
                    return err;
            return {};
        }
        if (v.is_object()) return bad("found an object where a concrete value was expected");
        if (type == "long" || type == "integer" || type == "short" || type == "byte" || type == "double" ||
            type == "float" || type == "half_float" || type == "scaled_float" || type == "unsigned_long") {
            if (v.is_number()) return {};
            if (v.is_string()) {  // coerce: numeric strings are accepted
                const std::string s = v.get<std::string>();
                char* end = nullptr;
                std::strtod(s.c_str(), &end);
                if (!s.empty() && end && *end == '\0') return {};
                return bad("For input string: \"" + s + "\"");
            }
            return bad("not a number");
        }
        if (type == "boolean") {
            if (v.is_boolean() || v == "true" || v == "false") return {};
            return bad("Failed to parse value [" + v.dump() + "] as only [true] or [false] are allowed.");
        }
        if (type == "date") {
            if (v.is_number_integer()) return {};
            if (v.is_string()) {
                const std::string s = v.get<std::string>();
                // strict_date_optional_time: yyyy-MM-dd['T'HH:mm[:ss[.SSS]][Z|±hh:mm]]
                bool ok = s.size() >= 10 && std::isdigit(static_cast<unsigned char>(s[0])) && s[4] == '-' &&
                          s[7] == '-';
                if (ok) return {};
                return bad("failed to parse date field [" + s + "] with format [strict_date_optional_time||epoch_millis]");
            }
            return bad("not a date");
        }
        return {};  // keyword, text, ...: any scalar
    }

    // ---- queries -----------------------------------------------------------------------------

    static bool scalar_equal(const json& a, const json& b) {
        if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
        if (a.is_string() && b.is_number()) return a.get<std::string>() == b.dump();
        if (a.is_number() && b.is_string()) return a.dump() == b.get<std::string>();
        return a == b;
    }

    static bool field_matches(const json& doc, const std::string& field, const json& value) {
        const json* v = lookup(doc, field);
        if (!v) return false;
        if (v->is_array()) {
            for (const auto& e : *v)
                if (scalar_equal(e, value)) return true;
            return false;
        }
        return scalar_equal(*v, value);
    }

    static int compare(const json& a, const json& b) {
        if (a.is_number() && b.is_number()) {
            double x = a.get<double>(), y = b.get<double>();
            return x < y ? -1 : x > y ? 1 : 0;
        }
        std::string x = a.is_string() ? a.get<std::string>() : a.dump();
        std::string y = b.is_string() ? b.get<std::string>() : b.dump();
        return x < y ? -1 : x > y ? 1 : 0;
    }

    // Throws std::invalid_argument for unsupported queries (→ 400 parsing_exception).
    static bool matches(const json& q, const std::string& id, const json& doc) {
        if (!q.is_object() || q.size() != 1) throw std::invalid_argument("query must have exactly one clause");
        const std::string kind = q.begin().key();
        const json& body = q.begin().value();
        if (kind == "match_all") return true;
        if (kind == "term" || kind == "match") {
            const std::string field = body.begin().key();
            const json& v = body.begin().value();
            json value = v.is_object() ? (v.contains("value") ? v["value"] : v.value("query", json())) : v;
            if (field == "_id") return value == id;
            return field_matches(doc, field, value);
        }
        if (kind == "terms") {
            const std::string field = body.begin().key();
            for (const auto& value : body.begin().value()) {
                if (field == "_id" ? value == id : field_matches(doc, field, value)) return true;
            }
            return false;
        }
        if (kind == "ids") {
            for (const auto& v : body.value("values", json::array()))
                if (v == id) return true;
            return false;
        }
        if (kind == "exists") return lookup(doc, body.value("field", "")) != nullptr;
        if (kind == "query_string") {
            if (!body.is_object() || !body.contains("query") || !body["query"].is_string())
                throw std::invalid_argument("[query_string] requires a string [query]");
            QueryString qs(body["query"].get<std::string>());
            return qs.matches(id, doc);
        }
        if (kind == "range") {
            const std::string field = body.begin().key();
            const json& r = body.begin().value();
            const json* v = lookup(doc, field);
            if (!v) return false;
            if (r.contains("gte") && compare(*v, r["gte"]) < 0) return false;
            if (r.contains("gt") && compare(*v, r["gt"]) <= 0) return false;
            if (r.contains("lte") && compare(*v, r["lte"]) > 0) return false;
            if (r.contains("lt") && compare(*v, r["lt"]) >= 0) return false;
            return true;
        }
        if (kind == "bool") {
            auto list = [&](const char* k) {
                json l = body.value(k, json::array());
                return l.is_array() ? l : json::array({l});
            };
            for (const auto& c : list("must"))
                if (!matches(c, id, doc)) return false;
            for (const auto& c : list("filter"))
                if (!matches(c, id, doc)) return false;
            for (const auto& c : list("must_not"))
                if (matches(c, id, doc)) return false;
            json should = list("should");
            if (!should.empty() && list("must").empty() && list("filter").empty()) {
                for (const auto& c : should)
                    if (matches(c, id, doc)) return true;
                return false;
            }
            return true;
        }
        throw std::invalid_argument("query [" + kind + "] is not supported by the emulator");
    }

    std::vector<Index*> resolve_locked(const std::string& pattern) {
        std::vector<Index*> out;
        for (const auto& p : split(pattern, ','))
            for (auto& [name, ix] : indices)
                if (glob_match(p, name) && std::find(out.begin(), out.end(), &ix) == out.end()) out.push_back(&ix);
        return out;
    }

    struct Hit {
        Index* index;
        const std::string* id;
        const Doc* doc;
        json source;
    };

    std::vector<Hit> query_locked(const std::string& pattern, const json& q) {
        std::vector<Hit> hits;
        json query = q.is_object() && q.contains("query") ? q["query"] : json{{"match_all", json::object()}};
        for (Index* ix : resolve_locked(pattern))
            for (const auto& id : ix->order) {
                const Doc& d = ix->docs.at(id);
                json source = json::parse(d.text, nullptr, false);
                if (matches(query, id, source)) hits.push_back({ix, &id, &d, std::move(source)});
            }
        return hits;
    }

    // ---- handlers ----------------------------------------------------------------------------

    // The index mapping rebuilt from its flattened fields: {"properties": {...}} (+ dynamic_templates).
    static json mapping_of(const Index& ix) {
        json root = {{"properties", json::object()}};
        for (const auto& [path, type] : ix.fields) {  // std::map: a parent precedes its children
            json* node = &root;
            auto segs = split(path, '.');
            for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
                json& props = (*node)["properties"];
                if (!props.contains(segs[i])) props[segs[i]] = json::object();
                node = &props[segs[i]];
            }
            json& leaf = (*node)["properties"][segs.back()];
            if (!leaf.is_object()) leaf = json::object();
            if (type != "object") leaf["type"] = type;
            if (type == "text") leaf["fields"] = {{"keyword", {{"type", "keyword"}, {"ignore_above", 256}}}};
            if (ix.disabled.count(path)) leaf["enabled"] = false;
        }
        if (!ix.dynamic_templates.empty()) root["dynamic_templates"] = ix.dynamic_templates;
        return root;
    }

    HttpReply handle_bulk(const HttpRequest& req, const std::string& default_index, const EsFaultPhase* fault) {
        auto ct = req.headers.count("content-type") ? req.headers.at("content-type") : "";
        if (ct.rfind("application/json", 0) != 0 && ct.rfind("application/x-ndjson", 0) != 0)
            return reply(406, {{"error", "Content-Type header [" + ct + "] is not supported"}, {"status", 406}});
        if (req.body.empty() || req.body.back() != '\n')
            return reply(400, es_error(400, "illegal_argument_exception",
                                       "The bulk request must be terminated by a newline [\\n]"));
        bump("bulk_requests");
        if (fault && fault->mode == "bulk_429") {
            bump("bulk_429");
            return reply(429, es_error(429, "es_rejected_execution_exception",
                                       "rejected execution of coordinating operation (emulated)"));
        }
        // Parse every line first: a malformed action line fails the whole request, as in ES.
        struct Op {
            std::string action;
            json meta;
            std::string_view source;  // into req.body
            bool has_source = false;
        };
        std::vector<Op> ops;
        std::size_t pos = 0, line_no = 0;
        auto next_line = [&](std::string_view& line) {
            if (pos >= req.body.size()) return false;
            auto nl = req.body.find('\n', pos);
            line = std::string_view(req.body).substr(pos, nl - pos);
            pos = nl + 1;
            ++line_no;
            return true;
        };
        std::string_view line;
        while (next_line(line)) {
            if (line.empty()) continue;
            json meta = json::parse(line, nullptr, false);
            if (meta.is_discarded() || !meta.is_object() || meta.size() != 1)
                return reply(400, es_error(400, "illegal_argument_exception",
                                           "Malformed action/metadata line [" + std::to_string(line_no) +
                                               "], expected START_OBJECT or END_OBJECT"));
            Op op;
            op.action = meta.begin().key();
            op.meta = meta.begin().value();
            if (op.action != "create" && op.action != "index" && op.action != "delete" && op.action != "update")
                return reply(400, es_error(400, "illegal_argument_exception",
                                           "Malformed action/metadata line [" + std::to_string(line_no) +
                                               "], expected one of [create, delete, index, update] but found [" +
                                               op.action + "]"));
            if (!op.meta.is_object())
                return reply(400, es_error(400, "illegal_argument_exception",
                                           "Malformed action/metadata line [" + std::to_string(line_no) +
                                               "], expected START_OBJECT but found [" + op.meta.type_name() + "]"));
            static const std::set<std::string> kMetaKeys = {
                "_index",  "_id",           "routing",          "version", "version_type",      "if_seq_no",
                "pipeline", "if_primary_term", "retry_on_conflict", "_source", "require_alias", "dynamic_templates",
                "require_data_stream", "op_type"};
            for (auto k = op.meta.begin(); k != op.meta.end(); ++k) {
                if (kMetaKeys.count(k.key()) || (k.key() == "_type" && major_version() < 8)) continue;
                return reply(400, es_error(400, "illegal_argument_exception",
                                           "Action/metadata line [" + std::to_string(line_no) +
                                               "] contains an unknown parameter [" + k.key() + "]"));
            }
            if (op.action != "delete") {
                std::string_view src;
                if (!next_line(src))
                    return reply(400, es_error(400, "action_request_validation_exception",
                                               "Validation Failed: 1: no requests added;"));
                op.source = src;
                op.has_source = true;
            }
            ops.push_back(std::move(op));
        }
        if (ops.empty())
            return reply(400, es_error(400, "action_request_validation_exception",
                                       "Validation Failed: 1: no requests added;"));
        std::bernoulli_distribution inject(fault ? std::clamp(fault->fraction, 0.0, 1.0) : 0.0);
        const bool items_fault = fault && fault->mode.rfind("items_", 0) == 0;
        std::string items;  // the response's item list, built as text (this is the hot path)
        auto push_item = [&](const std::string& action, const json& r) {
            if (!items.empty()) items += ',';
            items += json{{action, r}}.dump();
        };
        bool errors = false;
        for (auto& op : ops) {
            std::string index = op.meta.value("_index", default_index);
            std::string id = op.meta.contains("_id") && op.meta["_id"].is_string() ? op.meta["_id"].get<std::string>()
                                                                                   : std::string();
            json r = {{"_index", index}};
            if (!id.empty()) r["_id"] = id;
            auto item_error = [&](int status, const std::string& type, const std::string& reason) {
                r["status"] = status;
                r["error"] = {{"type", type}, {"reason", reason}, {"index", index}};
                errors = true;
            };
            bump("items");
            if (items_fault && inject(rng)) {
                if (fault->mode == "items_429") {
                    bump("items_429");
                    item_error(429, "es_rejected_execution_exception",
                               "rejected execution of primary operation (emulated): queue capacity reached");
                } else if (fault->mode == "items_503") {
                    bump("items_503");
                    item_error(503, "unavailable_shards_exception", "primary shard is not active (emulated)");
                } else {
                    bump("items_400");
                    item_error(400, "mapper_parsing_exception", "failed to parse (emulated)");
                }
                push_item(op.action, r);
                continue;
            }
            if (index.empty()) {
                bump("items_rejected");
                item_error(400, "action_request_validation_exception", "Validation Failed: 1: index is missing;");
                push_item(op.action, r);
                continue;
            }
            if (op.action == "update") {
                bump("items_rejected");
                item_error(400, "illegal_argument_exception", "update is not supported by the emulator");
                push_item(op.action, r);
                continue;
            }
            if (op.action == "delete" && !indices.count(index) && version_type_of(op.meta) == "internal") {
                // ES does not auto-create an index for a delete (TransportBulkAction), so the item fails.
                item_error(404, "index_not_found_exception", "no such index [" + index + "]");
                r["error"]["resource.type"] = "index_expression";
                r["error"]["resource.id"] = index;
                r["error"]["index_uuid"] = "_na_";
                bump("items_rejected");
                push_item(op.action, r);
                continue;
            }
            Index& ix = index_locked(index);
            r["_index"] = index;
            if (id.empty()) {
                if (op.action == "create" || op.action == "index") {
                    id = "auto" + std::to_string(ix.next_seq + 1) + "x" + std::to_string(rng() % 100000);
                    r["_id"] = id;
                } else {
                    bump("items_rejected");
                    item_error(400, "action_request_validation_exception", "Validation Failed: 1: id is missing;");
                    push_item(op.action, r);
                    continue;
                }
            }
            auto existing = ix.docs.find(id);
            if (op.action == "delete") {
                // Both outcomes take a sequence number; "not_found" is not an error (errors stays false).
                if (existing == ix.docs.end()) {
                    r["_version"] = 1;
                    r["result"] = "not_found";
                    bump("items_not_found");
                } else {
                    r["_version"] = existing->second.version + 1;
                    ix.docs.erase(existing);
                    ix.order.erase(std::find(ix.order.begin(), ix.order.end(), id));
                    r["result"] = "deleted";
                    bump("items_deleted");
                }
                r["_shards"] = {{"total", 1}, {"successful", 1}, {"failed", 0}};
                r["_seq_no"] = ix.next_seq++;
                r["_primary_term"] = 1;
                r["status"] = r["result"] == "deleted" ? 200 : 404;
                push_item(op.action, r);
                continue;
            }
            std::string version_type = op.meta.value("version_type", "internal");
            bool has_version = op.meta.contains("version") && op.meta["version"].is_number_unsigned();
            std::uint64_t version = has_version ? op.meta["version"].get<std::uint64_t>() : 0;
            if (existing != ix.docs.end()) {
                bool conflict = false;
                std::string why;
                if (op.action == "create") {
                    conflict = true;
                    why = "[" + id + "]: version conflict, document already exists (current version [" +
                          std::to_string(existing->second.version) + "])";
                } else if (has_version && (version_type == "external" || version_type == "external_gt")) {
                    conflict = version <= existing->second.version;
                } else if (has_version && version_type == "external_gte") {
                    conflict = version < existing->second.version;
                }
                if (conflict) {
                    if (why.empty())
                        why = "[" + id + "]: version conflict, current version [" +
                              std::to_string(existing->second.version) + "] is higher or equal to the one provided [" +
                              std::to_string(version) + "]";
                    bump("items_conflict");
                    item_error(409, "version_conflict_engine_exception", why);
                    r["error"]["index_uuid"] = ix.uuid;
                    r["error"]["shard"] = "0";
                    push_item(op.action, r);
                    continue;
                }
            }
            {
                MappingValidator<Impl, Index> v(*this, ix);
                bool ok = json::sax_parse(op.source, &v);
                if (!ok || !v.error.empty()) {
                    bump("items_400");
                    item_error(400, "mapper_parsing_exception",
                               v.error.empty() ? "failed to parse: the document is not a JSON object" : v.error);
                    push_item(op.action, r);
                    continue;
                }
            }
            Doc d;
            d.text = std::string(op.source);
            d.seq_no = ix.next_seq++;
            bool created = existing == ix.docs.end();
            d.version = has_version && version_type != "internal" ? version
                                                                  : (created ? 1 : existing->second.version + 1);
            if (created) {
                ix.order.push_back(id);
                ix.docs.emplace(id, std::move(d));
            } else {
                existing->second = std::move(d);
            }
            const Doc& stored = ix.docs.at(id);
            bump(created ? "items_created" : "items_updated");
            if (!items.empty()) items += ',';
            items += "{\"" + op.action + "\":{\"_index\":" + json(index).dump() + ",\"_id\":" + json(id).dump() +
                     ",\"_version\":" + std::to_string(stored.version) + ",\"result\":\"" +
                     (created ? "created" : "updated") +
                     "\",\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0},\"_seq_no\":" +
                     std::to_string(stored.seq_no) + ",\"_primary_term\":1,\"status\":" + (created ? "201" : "200") + "}}";
        }
        return HttpReply{200, std::string("{\"errors\":") + (errors ? "true" : "false") + ",\"took\":1,\"items\":[" + items + "]}", {}};
    }

    // ?q=, ?size=, ?from= of a URI search folded into the body (as ES does).
    static json uri_search(json q, const std::string& query) {
        if (!q.is_object()) q = json::object();
        if (auto v = query_param(query, "q")) q["query"] = {{"query_string", {{"query", *v}}}};
        for (const char* k : {"size", "from"})
            if (auto v = query_param(query, k)) {
                char* end = nullptr;
                long n = std::strtol(v->c_str(), &end, 10);
                if (v->empty() || *end != '\0' || n < 0)
                    throw std::invalid_argument(std::string("Failed to parse int parameter [") + k + "] with value [" +
                                                *v + "]");
                q[k] = static_cast<std::uint64_t>(n);
            }
        return q;
    }

    json search_json(const std::string& pattern, const json& q, int* status) {
        HttpReply r = handle_search(pattern, q, false);
        *status = r.status;
        return json::parse(r.body);
    }

    HttpReply handle_search(const std::string& pattern, const json& q, bool count_only) {
        if (resolve_locked(pattern).empty() && pattern.find('*') == std::string::npos && pattern != "_all")
            return reply(404, es_error(404, "index_not_found_exception", "no such index [" + pattern + "]"));
        auto hits = query_locked(pattern, q);
        if (count_only)
            return reply(200, {{"count", hits.size()},
                               {"_shards", {{"total", 1}, {"successful", 1}, {"skipped", 0}, {"failed", 0}}}});
        if (q.contains("size") && !q["size"].is_number_unsigned())
            return reply(400, es_error(400, "illegal_argument_exception", "[size] parameter cannot be negative"));
        if (q.contains("from") && !q["from"].is_number_unsigned())
            return reply(400, es_error(400, "illegal_argument_exception", "[from] parameter cannot be negative"));
        std::size_t size = q.value("size", 10), from = q.value("from", 0);
        if (size + from > 10000)
            return reply(400, es_error(400, "illegal_argument_exception",
                                       "Result window is too large, from + size must be less than or equal to: "
                                       "[10000]"));
        if (q.contains("sort")) {
            json s = q["sort"].is_array() ? q["sort"][0] : q["sort"];
            std::string field = s.is_string() ? s.get<std::string>() : s.begin().key();
            bool desc = s.is_object() && (s.begin().value().is_string() ? s.begin().value() == "desc"
                                                                         : s.begin().value().value("order", "asc") == "desc");
            std::stable_sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
                const json* x = lookup(a.source, field);
                const json* y = lookup(b.source, field);
                if (!x || !y) return x != nullptr;
                int c = compare(*x, *y);
                return desc ? c > 0 : c < 0;
            });
        }
        json list = json::array();
        for (std::size_t i = from; i < hits.size() && i < from + size; ++i)
            list.push_back({{"_index", hits[i].index->name}, {"_id", *hits[i].id}, {"_score", 1.0},
                            {"_source", hits[i].source}});
        json out = {{"took", 1},
                    {"timed_out", false},
                    {"_shards", {{"total", 1}, {"successful", 1}, {"skipped", 0}, {"failed", 0}}},
                    {"hits", {{"total", {{"value", hits.size()}, {"relation", "eq"}}}, {"max_score", 1.0}, {"hits", list}}}};
        json aggs_in = q.contains("aggs") ? q["aggs"] : q.value("aggregations", json::object());
        if (!aggs_in.empty()) {
            json aggs = json::object();
            for (auto it = aggs_in.begin(); it != aggs_in.end(); ++it) {
                if (!it.value().is_object() || it.value().empty() || !it.value().begin().value().is_object())
                    return reply(400, es_error(400, "parsing_exception", "Expected [START_OBJECT] under [" + it.key() + "]"));
                const std::string kind = it.value().begin().key();
                const json& params = it.value().begin().value();
                const std::string field = params.value("field", "");
                if (kind == "terms") {
                    std::map<std::string, std::pair<json, std::size_t>> counts;
                    for (const auto& h : hits) {
                        const json* v = lookup(h.source, field);
                        if (!v || v->is_null()) continue;
                        for (const auto& e : v->is_array() ? *v : json::array({*v}))
                            if (!e.is_object()) {
                                auto& c = counts[e.dump()];
                                c.first = e;
                                ++c.second;
                            }
                    }
                    std::vector<std::pair<json, std::size_t>> sorted;
                    for (auto& [k, c] : counts) sorted.push_back(c);
                    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
                    std::size_t n = params.value("size", 10), other = 0;
                    json buckets = json::array();
                    for (std::size_t i = 0; i < sorted.size(); ++i) {
                        if (i < n)
                            buckets.push_back({{"key", sorted[i].first}, {"doc_count", sorted[i].second}});
                        else
                            other += sorted[i].second;
                    }
                    aggs[it.key()] = {{"doc_count_error_upper_bound", 0}, {"sum_other_doc_count", other}, {"buckets", buckets}};
                    continue;
                }
                double sum = 0, mn = 0, mx = 0;
                std::size_t n = 0;
                std::set<std::string> distinct;
                for (const auto& h : hits) {
                    const json* v = lookup(h.source, field);
                    if (!v || v->is_null()) continue;
                    distinct.insert(v->dump());
                    if (!v->is_number()) {
                        ++n;
                        continue;
                    }
                    double x = v->get<double>();
                    mn = n == 0 ? x : std::min(mn, x);
                    mx = n == 0 ? x : std::max(mx, x);
                    sum += x;
                    ++n;
                }
                json value;
                if (kind == "sum") value = sum;
                else if (kind == "min") value = n ? json(mn) : json();
                else if (kind == "max") value = n ? json(mx) : json();
                else if (kind == "avg") value = n ? json(sum / static_cast<double>(n)) : json();
                else if (kind == "value_count") value = n;
                else if (kind == "cardinality") value = distinct.size();
                else
                    return reply(400, es_error(400, "parsing_exception",
                                               "aggregation [" + kind + "] is not supported by the emulator"));
                aggs[it.key()] = {{"value", value}};
            }
            out["aggregations"] = aggs;
        }
        return reply(200, out);
    }

    HttpReply route(const HttpRequest& req, const EsFaultPhase* fault) {
        const auto parts = split(req.path.size() > 1 ? req.path.substr(1) : "", '/');
        const std::string& m = req.method;
        json body;
        const bool ndjson = !parts.empty() && (parts.back() == "_bulk" || parts.back() == "_msearch");
        if (!req.body.empty() && !ndjson) {
            body = json::parse(req.body, nullptr, false);
            if (body.is_discarded())
                return reply(400, es_error(400, "parsing_exception", "request body is not valid JSON"));
        }
        const bool v8 = major_version() >= 8;
        if (req.path == "/" || req.path.empty()) {
            return reply(200, {{"name", "es-emulator"},
                               {"cluster_name", "bts-emulator"},
                               {"cluster_uuid", "ZW11bGF0b3ItY2x1c3Rlcg"},
                               {"version", {{"number", opt.version},
                                            {"build_flavor", "default"},
                                            {"build_type", "deb"},
                                            {"build_hash", "emulator"},
                                            {"build_date", "2024-03-22T03:35:46.757803203Z"},
                                            {"build_snapshot", false},
                                            {"lucene_version", v8 ? "9.10.0" : "8.11.1"},
                                            {"minimum_wire_compatibility_version", v8 ? "7.17.0" : "6.8.0"},
                                            {"minimum_index_compatibility_version", v8 ? "7.0.0" : "6.0.0-beta1"}}},
                               {"tagline", "You Know, for Search"}});
        }
        if (parts[0] == "_nodes" && (m == "GET" || m == "HEAD")) {
            // bitshares-core's check_status(): any non-empty body means "up".
            return reply(200, {{"_nodes", {{"total", 1}, {"successful", 1}, {"failed", 0}}},
                               {"cluster_name", "bts-emulator"},
                               {"nodes",
                                {{"ZW11bGF0b3Itbm9kZQ",
                                  {{"name", "es-emulator"},
                                   {"transport_address", "127.0.0.1:9300"},
                                   {"host", "127.0.0.1"},
                                   {"ip", "127.0.0.1"},
                                   {"version", opt.version},
                                   {"build_flavor", "default"},
                                   {"build_type", "deb"},
                                   {"build_hash", "emulator"},
                                   {"roles", json::array({"data", "ingest", "master"})},
                                   {"attributes", json::object()}}}}}});
        }
        if (parts[0] == "_cluster" && parts.size() == 2 && parts[1] == "settings") {
            if (m == "PUT") {
                if (!body.is_object()) return reply(400, es_error(400, "action_request_validation_exception",
                                                                  "Validation Failed: 1: no settings to update;"));
                for (const char* scope : {"persistent", "transient"})
                    if (body.contains(scope) && body[scope].is_object())
                        for (auto it = body[scope].begin(); it != body[scope].end(); ++it)
                            cluster_settings[scope][it.key()] = it.value();
                json out = cluster_settings;
                out["acknowledged"] = true;
                return reply(200, out);
            }
            json out = cluster_settings;
            if (flag_param(req.query, "include_defaults")) {
                json d = {{"cluster.routing.allocation.disk.threshold_enabled", "true"},
                          {"cluster.routing.allocation.disk.watermark.low", "85%"},
                          {"cluster.routing.allocation.disk.watermark.high", "90%"},
                          {"cluster.routing.allocation.disk.watermark.flood_stage", "95%"}};
                if (!flag_param(req.query, "flat_settings"))
                    d = {{"cluster",
                          {{"routing",
                            {{"allocation",
                              {{"disk",
                                {{"threshold_enabled", "true"},
                                 {"watermark", {{"low", "85%"}, {"high", "90%"}, {"flood_stage", "95%"}}}}}}}}}}}};
                out["defaults"] = d;
            }
            return reply(200, out);
        }
        if (parts[0] == "_cat" && parts.size() >= 2 && (m == "GET" || m == "HEAD")) {
            const bool as_json = query_param(req.query, "format").value_or("") == "json";
            json rows = json::array();
            if (parts[1] == "indices") {
                auto found = parts.size() >= 3 ? resolve_locked(url_decode(parts[2])) : resolve_locked("*");
                for (Index* ix : found) {
                    std::size_t bytes = 0;
                    for (const auto& [id, d] : ix->docs) bytes += d.text.size() + id.size();
                    rows.push_back({{"health", "green"}, {"status", "open"}, {"index", ix->name}, {"uuid", ix->uuid},
                                    {"pri", "1"}, {"rep", "0"}, {"docs.count", std::to_string(ix->docs.size())},
                                    {"docs.deleted", "0"}, {"store.size", std::to_string(bytes) + "b"},
                                    {"pri.store.size", std::to_string(bytes) + "b"}});
                }
            } else if (parts[1] == "allocation") {
                rows.push_back({{"shards", std::to_string(indices.size())}, {"disk.indices", "1mb"},
                                {"disk.used", std::to_string(opt.disk_percent) + "gb"},
                                {"disk.avail", std::to_string(100 - opt.disk_percent) + "gb"}, {"disk.total", "100gb"},
                                {"disk.percent", std::to_string(opt.disk_percent)}, {"host", "127.0.0.1"},
                                {"ip", "127.0.0.1"}, {"node", "es-emulator"}});
            } else {
                return reply(400, es_error(400, "illegal_argument_exception",
                                           "_cat/" + parts[1] + " is not supported by the emulator"));
            }
            if (as_json) return reply(200, rows);
            HttpReply r{200, "", {}};
            for (const auto& row : rows) {
                std::string line;
                for (auto it = row.begin(); it != row.end(); ++it) line += (line.empty() ? "" : " ") + it->get<std::string>();
                r.body += line + "\n";
            }
            r.headers.emplace_back("content-type", "text/plain; charset=UTF-8");
            return r;
        }
        if (parts[0] == "_ilm" && parts.size() == 3 && parts[1] == "policy") {
            const std::string name = url_decode(parts[2]);
            if (m == "PUT") {
                if (!body.is_object() || !body.contains("policy") || !body["policy"].is_object())
                    return reply(400, es_error(400, "parse_exception", "request body is required"));
                auto& slot = ilm_policies[name];
                long version = slot.is_object() ? slot.value("version", 0L) + 1 : 1;
                slot = {{"version", version}, {"modified_date", "2026-01-01T00:00:00.000Z"}, {"policy", body["policy"]}};
                return reply(200, {{"acknowledged", true}});
            }
            if (!ilm_policies.count(name))
                return reply(404, es_error(404, "resource_not_found_exception", "Lifecycle policy not found: " + name));
            if (m == "DELETE") {
                ilm_policies.erase(name);
                return reply(200, {{"acknowledged", true}});
            }
            return reply(200, {{name, ilm_policies[name]}});
        }
        if (parts[0] == "_index_template" && parts.size() == 1 && m == "GET") {
            json list = json::array();
            for (const auto& [name, t] : templates) list.push_back({{"name", name}, {"index_template", t}});
            return reply(200, {{"index_templates", list}});
        }
        if (parts.back() == "_msearch" && parts.size() <= 2 && (m == "GET" || m == "POST")) {
            if (req.body.empty() || req.body.back() != '\n')
                return reply(400, es_error(400, "illegal_argument_exception",
                                           "The msearch request must be terminated by a newline [\\n]"));
            json responses = json::array();
            auto lines = split(req.body, '\n');
            lines.pop_back();
            if (lines.size() % 2 != 0)
                return reply(400, es_error(400, "illegal_argument_exception", "msearch: a header without a body"));
            for (std::size_t i = 0; i + 1 < lines.size(); i += 2) {
                json head = json::parse(lines[i], nullptr, false), sbody = json::parse(lines[i + 1], nullptr, false);
                if (head.is_discarded() || sbody.is_discarded() || !head.is_object())
                    return reply(400, es_error(400, "parsing_exception", "msearch: malformed line " + std::to_string(i + 1)));
                std::string pattern = parts.size() == 2 ? url_decode(parts[0]) : "*";
                if (head.contains("index"))
                    pattern = head["index"].is_array() ? head["index"][0].get<std::string>() : head["index"].get<std::string>();
                int status = 200;
                json one;
                try {
                    one = search_json(pattern, sbody, &status);
                } catch (const std::exception& e) {
                    status = 400;
                    one = es_error(400, "parsing_exception", e.what());
                }
                one["status"] = status;
                responses.push_back(one);
            }
            return reply(200, {{"took", 1}, {"responses", responses}});
        }
        if (parts.size() == 2 && parts[1] == "_delete_by_query" && m == "POST") {
            auto found = resolve_locked(url_decode(parts[0]));
            if (found.empty())
                return reply(404, es_error(404, "index_not_found_exception", "no such index [" + parts[0] + "]"));
            std::size_t deleted = 0;
            try {
                for (const auto& h : query_locked(url_decode(parts[0]), body)) {
                    std::string id = *h.id;
                    h.index->docs.erase(id);
                    h.index->order.erase(std::find(h.index->order.begin(), h.index->order.end(), id));
                    ++deleted;
                }
            } catch (const std::exception& e) {
                return reply(400, es_error(400, "parsing_exception", e.what()));
            }
            return reply(200, {{"took", 1}, {"timed_out", false}, {"total", deleted}, {"deleted", deleted},
                               {"batches", deleted ? 1 : 0}, {"version_conflicts", 0}, {"noops", 0},
                               {"retries", {{"bulk", 0}, {"search", 0}}}, {"throttled_millis", 0},
                               {"requests_per_second", -1.0}, {"throttled_until_millis", 0},
                               {"failures", json::array()}});
        }
        if (parts.size() == 2 && parts[1] == "_mapping" && (m == "GET" || m == "HEAD")) {
            auto found = resolve_locked(url_decode(parts[0]));
            if (found.empty())
                return reply(404, es_error(404, "index_not_found_exception", "no such index [" + parts[0] + "]"));
            json out = json::object();
            for (Index* ix : found) out[ix->name] = {{"mappings", mapping_of(*ix)}};
            return reply(200, out);
        }
        if (parts[0] == "_cluster" && parts.size() == 2 && parts[1] == "health")
            return reply(200, {{"cluster_name", "bts-emulator"}, {"status", "green"}, {"timed_out", false},
                               {"number_of_nodes", 1}, {"number_of_data_nodes", 1},
                               {"active_primary_shards", indices.size()}, {"active_shards", indices.size()},
                               {"unassigned_shards", 0}});
        if (parts[0] == "_index_template" && parts.size() == 2) {
            const std::string name = url_decode(parts[1]);
            if (m == "PUT" || m == "POST") {
                if (!body.is_object() || !body.contains("index_patterns"))
                    return reply(400, es_error(400, "action_request_validation_exception",
                                               "Validation Failed: 1: index patterns are missing;"));
                templates[name] = body;
                return reply(200, {{"acknowledged", true}});
            }
            if (m == "GET" || m == "HEAD") {
                if (!templates.count(name))
                    return reply(404, es_error(404, "resource_not_found_exception",
                                               "index template matching [" + name + "] not found"));
                return reply(200, {{"index_templates", json::array({{{"name", name}, {"index_template", templates[name]}}})}});
            }
            if (m == "DELETE") {
                templates.erase(name);
                return reply(200, {{"acknowledged", true}});
            }
        }
        if (parts.back() == "_bulk" && parts.size() <= 2 && (m == "POST" || m == "PUT"))
            return handle_bulk(req, parts.size() == 2 ? url_decode(parts[0]) : "", fault);
        if (parts.back() == "_refresh") return reply(200, {{"_shards", {{"total", 1}, {"successful", 1}, {"failed", 0}}}});
        try {
            if (parts.size() == 2 && (parts[1] == "_count" || parts[1] == "_search") && (m == "GET" || m == "POST"))
                return handle_search(url_decode(parts[0]), uri_search(body, req.query), parts[1] == "_count");
            if (parts.size() == 1 && (parts[0] == "_count" || parts[0] == "_search"))
                return handle_search("*", uri_search(body, req.query), parts[0] == "_count");
        } catch (const std::exception& e) {
            return reply(400, es_error(400, "parsing_exception", e.what()));
        }
        if (parts.size() == 3 && parts[1] == "_doc" && m == "GET") {
            auto it = indices.find(url_decode(parts[0]));
            std::string id = url_decode(parts[2]);
            if (it == indices.end() || !it->second.docs.count(id))
                return reply(404, {{"_index", parts[0]}, {"_id", id}, {"found", false}});
            const Doc& d = it->second.docs.at(id);
            return reply(200, {{"_index", parts[0]}, {"_id", id}, {"_version", d.version}, {"_seq_no", d.seq_no},
                               {"_primary_term", 1}, {"found", true}, {"_source", json::parse(d.text, nullptr, false)}});
        }
        if (parts.size() == 1 && m == "DELETE") {
            for (Index* ix : resolve_locked(url_decode(parts[0]))) indices.erase(ix->name);
            return reply(200, {{"acknowledged", true}});
        }
        if (parts.size() == 1 && (m == "GET" || m == "HEAD")) {
            auto found = resolve_locked(url_decode(parts[0]));
            if (found.empty())
                return reply(404, es_error(404, "index_not_found_exception", "no such index [" + parts[0] + "]"));
            json out = json::object();
            for (Index* ix : found) out[ix->name] = {{"settings", {{"index", {{"uuid", ix->uuid}}}}}};
            return reply(200, out);
        }
        return reply(405, es_error(405, "illegal_argument_exception",
                                   "Incorrect HTTP method for uri [" + req.path + "] and method [" + m + "]"));
    }

    HttpReply handle(const HttpRequest& req) {
        std::lock_guard lock(mu);
        bump("requests");
        if (req.path.rfind("/_emulator/", 0) == 0) {
            if (req.path == "/_emulator/stats") return reply(200, counters_json());
            if (req.path == "/_emulator/requests") {
                if (req.method == "DELETE") received_log.clear();
                return reply(200, received_log);
            }
            if (req.path == "/_emulator/faults") {
                if (req.method == "POST" || req.method == "PUT") {
                    json b = json::parse(req.body, nullptr, false);
                    if (b.is_discarded() || !b.contains("phases") || !b["phases"].is_array())
                        return reply(400, {{"error", "expected {\"phases\": [...]}"}});
                    std::vector<EsFaultPhase> ph;
                    for (const auto& p : b["phases"]) {
                        EsFaultPhase f;
                        f.mode = p.value("mode", "ok");
                        f.fraction = p.value("fraction", 1.0);
                        f.duration = std::chrono::milliseconds(p.value("duration_ms", 0));
                        ph.push_back(f);
                    }
                    phases = std::move(ph);
                    phases_start = Clock::now();
                    stall_cv.notify_all();
                    return reply(200, {{"acknowledged", true}});
                }
                json list = json::array();
                for (const auto& p : phases)
                    list.push_back({{"mode", p.mode}, {"fraction", p.fraction}, {"duration_ms", p.duration.count()}});
                const EsFaultPhase* now = fault_locked();
                return reply(200, {{"phases", list}, {"current", now ? now->mode : "ok"}});
            }
            return reply(404, {{"error", "unknown emulator path"}});
        }
        if (received_log.size() < 100000)
            received_log.push_back(req.method + " " + req.path + (req.query.empty() ? "" : "?" + req.query));
        if (!opt.api_key.empty() || !opt.username.empty()) {
            std::string have = req.headers.count("authorization") ? req.headers.at("authorization") : "";
            bool ok = (!opt.api_key.empty() && have == "ApiKey " + opt.api_key) ||
                      (!opt.username.empty() && have == "Basic " + b64(opt.username + ":" + opt.password));
            if (!ok) {
                bump("unauthorized");
                HttpReply r = reply(401, es_error(401, "security_exception",
                                                  "missing authentication credentials for REST request [" + req.path + "]"));
                r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"security\" charset=\"UTF-8\"");
                r.headers.emplace_back("WWW-Authenticate", "ApiKey");
                return r;
            }
        }
        const EsFaultPhase* fault = fault_locked();
        if (fault) {
            if (fault->mode == "refuse") {  // a connection opened before the outage
                bump("refused_connections");
                HttpReply r;
                r.action = HttpReply::Action::kReset;
                return r;
            }
            if (fault->mode == "unavailable") {
                bump("unavailable");
                return reply(503, es_error(503, "cluster_block_exception",
                                           "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"));
            }
            if (fault->mode == "drop") {
                bump("dropped");
                HttpReply r;
                r.action = HttpReply::Action::kDrop;
                return r;
            }
            if (fault->mode == "stall") {
                bump("stalled");
                HttpReply r;
                r.action = HttpReply::Action::kStall;
                return r;
            }
        }
        return route(req, fault);
    }

    // ---- HTTP --------------------------------------------------------------------------------

    static bool read_more(int fd, std::string& buf) {
        char tmp[65536];
        for (;;) {
            ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
            if (n > 0) {
                buf.append(tmp, static_cast<std::size_t>(n));
                return true;
            }
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
    }

    // 1 = request parsed, 0 = connection closed, -1 = bad request, -2 = too large.
    int read_request(int fd, std::string& buf, HttpRequest& req) {
        std::size_t end;
        while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
            if (buf.size() > 64 * 1024) return -1;
            if (!read_more(fd, buf)) return 0;
        }
        std::istringstream head(buf.substr(0, end));
        std::string line, version;
        std::getline(head, line);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::istringstream rl(line);
        std::string target;
        if (!(rl >> req.method >> target >> version)) return -1;
        auto q = target.find('?');
        req.path = target.substr(0, q);
        req.query = q == std::string::npos ? "" : target.substr(q + 1);
        while (std::getline(head, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            req.headers[name] = value;
        }
        buf.erase(0, end + 4);
        auto conn = req.headers.count("connection") ? req.headers["connection"] : "";
        std::transform(conn.begin(), conn.end(), conn.begin(), [](unsigned char c) { return std::tolower(c); });
        req.keep_alive = version == "HTTP/1.1" ? conn != "close" : conn == "keep-alive";
        if (req.headers.count("transfer-encoding") && req.headers["transfer-encoding"].find("chunked") != std::string::npos) {
            for (;;) {
                std::size_t eol;
                while ((eol = buf.find("\r\n")) == std::string::npos)
                    if (!read_more(fd, buf)) return 0;
                std::size_t size = std::strtoull(buf.substr(0, eol).c_str(), nullptr, 16);
                if (req.body.size() + size > opt.max_body_bytes) return -2;
                while (buf.size() < eol + 2 + size + 2)
                    if (!read_more(fd, buf)) return 0;
                req.body.append(buf, eol + 2, size);
                buf.erase(0, eol + 2 + size + 2);
                if (size == 0) break;
            }
            return 1;
        }
        std::size_t length = req.headers.count("content-length") ? std::strtoull(req.headers["content-length"].c_str(), nullptr, 10) : 0;
        if (length > opt.max_body_bytes) return -2;
        while (buf.size() < length)
            if (!read_more(fd, buf)) return 0;
        req.body = buf.substr(0, length);
        buf.erase(0, length);
        return 1;
    }

    static bool send_all(int fd, const std::string& data) {
        std::size_t off = 0;
        while (off < data.size()) {
            ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                return false;
            }
            off += static_cast<std::size_t>(n);
        }
        return true;
    }

    static bool send_reply(int fd, const HttpReply& r, bool keep_alive, bool head) {
        std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
        bool typed = false;
        for (const auto& [k, v] : r.headers) {
            out += k + ": " + v + "\r\n";
            typed = typed || k == "content-type";
        }
        if (!typed) out += "content-type: application/json\r\n";
        out += "x-elastic-product: Elasticsearch\r\n";
        out += "content-length: " + std::to_string(r.body.size()) + "\r\n";
        if (!keep_alive) out += "connection: close\r\n";
        out += "\r\n";
        if (!head) out += r.body;
        return send_all(fd, out);
    }

    void serve(int fd) {
        std::string buf;
        while (!stopping) {
            HttpRequest req;
            int rc = read_request(fd, buf, req);
            if (rc == 0) break;
            if (rc < 0) {
                send_reply(fd, reply(rc == -2 ? 413 : 400, es_error(rc == -2 ? 413 : 400, "http_exception",
                                                                     rc == -2 ? "request too large" : "bad request")),
                           false, false);
                break;
            }
            HttpReply r = handle(req);
            if (r.action == HttpReply::Action::kDrop) break;
            if (r.action == HttpReply::Action::kReset) {
                linger l{1, 0};
                ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                break;
            }
            if (r.action == HttpReply::Action::kStall) {
                Clock::time_point ends;
                {
                    std::lock_guard lock(mu);
                    fault_locked(&ends);
                }
                std::unique_lock lock(stall_mu);
                stall_cv.wait_until(lock, std::min(ends, Clock::now() + std::chrono::minutes(10)),
                                    [&] { return stopping.load(); });
                break;
            }
            if (!send_reply(fd, r, req.keep_alive, req.method == "HEAD")) break;
            if (!req.keep_alive) break;
        }
    }

    void accept_loop() {
        while (!stopping) {
            pollfd p{listen_fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) {
                reap();
                continue;
            }
            int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            bool refuse = false;
            {
                std::lock_guard lock(mu);
                bump("connections");
                const EsFaultPhase* f = fault_locked();
                if (f && f->mode == "refuse") {
                    refuse = true;
                    bump("refused_connections");
                }
            }
            if (refuse) {
                linger l{1, 0};  // RST: the client sees "connection reset", as with a dead server
                ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                ::close(fd);
                continue;
            }
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::lock_guard lock(conn_mu);
            conns.emplace_back(fd, std::thread());
            auto it = std::prev(conns.end());
            it->second = std::thread([this, fd] {
                serve(fd);
                ::shutdown(fd, SHUT_RDWR);
                std::lock_guard lock(conn_mu);
                for (auto& c : conns)
                    if (c.first == fd) c.first = -1;  // finished; reaped by the acceptor
                ::close(fd);
            });
        }
    }

    void reap() {
        std::list<std::pair<int, std::thread>> done;
        {
            std::lock_guard lock(conn_mu);
            for (auto it = conns.begin(); it != conns.end();) {
                if (it->first == -1) {
                    done.splice(done.end(), conns, it++);
                } else {
                    ++it;
                }
            }
        }
        for (auto& c : done)
            if (c.second.joinable()) c.second.join();
    }
};

EsEmulator::EsEmulator(Options options) : impl_(std::make_unique<Impl>()) {
    impl_->opt = std::move(options);
    impl_->rng.seed(impl_->opt.seed);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(impl_->opt.port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
        std::string err = std::strerror(errno);
        ::close(fd);
        throw std::runtime_error("es emulator: cannot listen on port " + std::to_string(impl_->opt.port) + ": " + err);
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    impl_->listen_fd = fd;
    impl_->port = ntohs(addr.sin_port);
    impl_->acceptor = std::thread([this] { impl_->accept_loop(); });
}

EsEmulator::~EsEmulator() {
    impl_->stopping = true;
    impl_->stall_cv.notify_all();
    if (impl_->acceptor.joinable()) impl_->acceptor.join();
    {
        std::lock_guard lock(impl_->conn_mu);
        for (auto& c : impl_->conns)
            if (c.first >= 0) ::shutdown(c.first, SHUT_RDWR);
    }
    for (;;) {
        std::thread t;
        {
            std::lock_guard lock(impl_->conn_mu);
            if (impl_->conns.empty()) break;
            t = std::move(impl_->conns.front().second);
            impl_->conns.pop_front();
        }
        if (t.joinable()) t.join();
    }
    ::close(impl_->listen_fd);
}

std::uint16_t EsEmulator::port() const { return impl_->port; }
std::string EsEmulator::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

void EsEmulator::set_faults(std::vector<EsFaultPhase> phases) {
    std::lock_guard lock(impl_->mu);
    impl_->phases = std::move(phases);
    impl_->phases_start = Clock::now();
    impl_->stall_cv.notify_all();
}

std::string EsEmulator::current_fault() const {
    std::lock_guard lock(impl_->mu);
    const EsFaultPhase* f = impl_->fault_locked();
    return f ? f->mode : "ok";
}

std::size_t EsEmulator::count(const std::string& pattern) const {
    std::lock_guard lock(impl_->mu);
    std::size_t n = 0;
    for (Index* ix : impl_->resolve_locked(pattern)) n += ix->docs.size();
    return n;
}

std::vector<nlohmann::json> EsEmulator::documents(const std::string& pattern) const {
    std::lock_guard lock(impl_->mu);
    std::vector<nlohmann::json> out;
    for (Index* ix : impl_->resolve_locked(pattern))
        for (const auto& id : ix->order) out.push_back(json::parse(ix->docs.at(id).text, nullptr, false));
    return out;
}

nlohmann::json EsEmulator::stats() const {
    std::lock_guard lock(impl_->mu);
    return impl_->counters_json();
}

bool EsEmulator::has_document(const std::string& index, const std::string& id) const {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->indices.find(index);
    return it != impl_->indices.end() && it->second.docs.count(id) > 0;
}

std::vector<std::string> EsEmulator::received() const {
    std::lock_guard lock(impl_->mu);
    return impl_->received_log;
}

void EsEmulator::clear_received() {
    std::lock_guard lock(impl_->mu);
    impl_->received_log.clear();
}

void EsEmulator::set_disk_percent(int percent) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.disk_percent = percent;
}

bool EsEmulator::has_template(const std::string& name) const {
    std::lock_guard lock(impl_->mu);
    return impl_->templates.count(name) > 0;
}

}  // namespace bts::test
