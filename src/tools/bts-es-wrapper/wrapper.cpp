// bts-es-wrapper: config, the pass-through guard, the community endpoints, rate limits, CORS,
// access log.
#include "tools/bts-es-wrapper/wrapper.hpp"

#include "common/net/http_client.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

namespace bts::eswrapper {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

const char* kOpenApi = R"json({
  "openapi": "3.0.3",
  "info": {"title": "bts-es-wrapper", "version": "1",
           "description": "Read-only access to BitShares chain data in Elasticsearch (bitshares-core's elasticsearch and es_objects plugins) and to bts-stress metrics. Compatible with the community bitshares-es-wrapper's endpoints; guarded pass-through of _search, _count, _msearch, _mapping and _cat/indices on allowed indices. Writes, admin APIs and scripts are refused with 403."},
  "paths": {
    "/get_account_history": {"get": {
      "summary": "Operations of an account (or of every account), newest first, with paging, date range and type filter; or counts per field",
      "parameters": [
        {"in": "query", "name": "account_id", "schema": {"type": "string", "example": "1.2.17"}, "description": "account id 1.2.N"},
        {"in": "query", "name": "operation_type", "schema": {"type": "integer", "minimum": 0}, "description": "operation type number"},
        {"in": "query", "name": "from_", "schema": {"type": "integer", "default": 0}},
        {"in": "query", "name": "size", "schema": {"type": "integer", "default": 10}},
        {"in": "query", "name": "from_date", "schema": {"type": "string", "default": "2015-10-10"}},
        {"in": "query", "name": "to_date", "schema": {"type": "string", "default": "now"}},
        {"in": "query", "name": "sort_by", "schema": {"type": "string", "default": "-block_data.block_time"}, "description": "field; a leading - sorts descending"},
        {"in": "query", "name": "type", "schema": {"type": "string", "enum": ["data", "count"], "default": "data"}},
        {"in": "query", "name": "agg_field", "schema": {"type": "string", "default": "operation_type"}, "description": "type=count: the field to count by"}],
      "responses": {"200": {"description": "type=data: array of operation documents (_source); type=count: array of {key, doc_count}"},
                    "400": {"description": "bad parameter"}, "403": {"description": "over a cap"}, "429": {"description": "rate limited"}}}},
    "/get_single_operation": {"get": {
      "summary": "One operation by id",
      "parameters": [{"in": "query", "name": "operation_id", "required": true, "schema": {"type": "string", "example": "1.11.0"}}],
      "responses": {"200": {"description": "array of at most one operation document"}}}},
    "/get_trx": {"get": {
      "summary": "The operations of a transaction",
      "parameters": [{"in": "query", "name": "trx", "required": true, "schema": {"type": "string"}, "description": "transaction id (40 hex digits)"},
                     {"in": "query", "name": "from_", "schema": {"type": "integer", "default": 0}},
                     {"in": "query", "name": "size", "schema": {"type": "integer", "default": 10}}],
      "responses": {"200": {"description": "array of operation documents"}}}},
    "/is_alive": {"get": {
      "summary": "Whether the indexed chain is current: head block time and its age",
      "responses": {"200": {"description": "{server_time, head_block_time, head_block_timestamp, deltatime, status: ok|out_of_sync, error?}"}}}},
    "/{indices}/_search": {"post": {"summary": "Elasticsearch _search (guarded)", "parameters": [{"in": "path", "name": "indices", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}, "responses": {"200": {"description": "Elasticsearch's answer"}, "403": {"description": "refused"}}},
      "get": {"summary": "Elasticsearch _search (guarded)", "parameters": [{"in": "path", "name": "indices", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Elasticsearch's answer"}}}},
    "/{indices}/_count": {"post": {"summary": "Elasticsearch _count (guarded)", "parameters": [{"in": "path", "name": "indices", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Elasticsearch's answer"}}}},
    "/{indices}/_msearch": {"post": {"summary": "Elasticsearch _msearch (guarded; NDJSON)", "parameters": [{"in": "path", "name": "indices", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Elasticsearch's answer"}}}},
    "/{indices}/_mapping": {"get": {"summary": "Elasticsearch mapping", "parameters": [{"in": "path", "name": "indices", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Elasticsearch's answer"}}}},
    "/_cat/indices": {"get": {"summary": "The allowed indices (format=json for JSON)", "responses": {"200": {"description": "Elasticsearch's answer"}}}}
  }
})json";

bool glob_match(std::string_view pattern, std::string_view text) {
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
        out.emplace_back(
            s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

std::string percent_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '*' ||
            c == ',') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// Each comma-separated index expression must be covered by an allowed pattern: "bitshares-2026*"
// by "bitshares-*"; "*", "_all", "-x" (exclusion), "<date-math>", "remote:index" never are.
bool indices_allowed(const WrapperConfig& cfg, const std::string& expr, std::string* bad) {
    if (expr.empty()) return *bad = "(none)", false;
    for (const auto& part : split(expr, ',')) {
        bool ok = !part.empty() && part[0] != '-' && part[0] != '_' && part[0] != '<' &&
                  part.find(':') == std::string::npos && part.find('?') == std::string::npos;
        if (ok) {
            ok = false;
            for (const auto& allowed : cfg.allowed_indices)
                if (glob_match(allowed, part)) ok = true;
        }
        if (!ok) return *bad = part, false;
    }
    return true;
}

struct Refusal {
    int status;
    std::string reason;
};

// Lucene query text: no regular expressions, no leading wildcards (full term-dictionary scans).
void check_lucene(const std::string& q, const std::string& where) {
    if (q.find('/') != std::string::npos)
        throw Refusal{403, where + ": regular expressions (/.../) are not allowed"};
    bool start = true;
    for (char c : q) {
        if ((c == '*' || c == '?') && start)
            throw Refusal{403, where + ": a term may not start with a wildcard (unbounded scan)"};
        start = c == ' ' || c == ':' || c == '(' || c == '"' || c == '\t' || c == '+' || c == '-';
    }
}

class BodyGuard {
  public:
    explicit BodyGuard(const WrapperConfig& cfg) : cfg_(cfg) {}

    // A search body: walked whole, then bounded. Throws Refusal.
    void search(json& body, bool count_only) {
        if (!body.is_object()) throw Refusal{400, "the body must be a JSON object"};
        walk(body, "");
        if (count_only) return;
        std::uint64_t size = number(body, "size", 10), from = number(body, "from", 0);
        if (size > cfg_.max_size)
            throw Refusal{403, "size " + std::to_string(size) + " is over the cap of " +
                                   std::to_string(cfg_.max_size)};
        if (from + size > cfg_.max_window)
            throw Refusal{403, "from + size = " + std::to_string(from + size) +
                                   " is over the cap of " + std::to_string(cfg_.max_window)};
        for (const char* key : {"aggs", "aggregations"})
            if (body.contains(key)) aggs(body[key], 1, 0);
        // Bounded work on the cluster: the search timeout and terminate_after never exceed ours.
        const std::uint64_t ms = static_cast<std::uint64_t>(cfg_.search_timeout.count());
        if (!body.contains("timeout") || parse_ms(body["timeout"]) > ms)
            body["timeout"] = std::to_string(ms) + "ms";
        if (!body.contains("terminate_after") || number(body, "terminate_after", 0) == 0 ||
            number(body, "terminate_after", 0) > cfg_.terminate_after)
            body["terminate_after"] = cfg_.terminate_after;
    }

  private:
    static std::uint64_t number(const json& o, const char* key, std::uint64_t fallback) {
        if (!o.contains(key)) return fallback;
        const json& v = o[key];
        if (v.is_number_unsigned()) return v.get<std::uint64_t>();
        if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
            return static_cast<std::uint64_t>(v.get<std::int64_t>());
        if (v.is_string()) {
            const std::string s = v;
            if (!s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), ::isdigit))
                return std::stoull(s);
        }
        throw Refusal{400, std::string("[") + key + "] must be a non-negative integer"};
    }
    static std::uint64_t parse_ms(const json& v) {
        if (!v.is_string()) return UINT64_MAX;
        std::string s = v;
        std::size_t i = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == 0 || i > 12) return UINT64_MAX;
        std::uint64_t n = std::stoull(s.substr(0, i));
        std::string unit = s.substr(i);
        if (unit == "ms") return n;
        if (unit == "s") return n * 1000;
        if (unit == "m") return n * 60'000;
        return UINT64_MAX;
    }

    void walk(const json& v, const std::string& at) {
        if (v.is_array()) {
            for (const auto& e : v) walk(e, at);
            return;
        }
        if (!v.is_object()) return;
        static const std::set<std::string> kScripts = {
            "script",           "script_score",  "script_fields",
            "scripted_metric",  "bucket_script", "bucket_selector",
            "runtime_mappings", "stored_script", "painless"};
        for (auto it = v.begin(); it != v.end(); ++it) {
            const std::string& k = it.key();
            const std::string here = at.empty() ? k : at + "." + k;
            if (kScripts.count(k)) throw Refusal{403, "scripts are not allowed (" + here + ")"};
            if (k == "regexp") throw Refusal{403, "regexp queries are not allowed (" + here + ")"};
            if (k == "more_like_this" || k == "percolate" || k == "indexed_shape")
                throw Refusal{403, k + " is not allowed: it reads other indices (" + here + ")"};
            if (k == "wildcard" && it.value().is_object())
                for (auto f = it.value().begin(); f != it.value().end(); ++f) {
                    std::string pat =
                        f.value().is_object()
                            ? f.value().value("value", f.value().value("wildcard", ""))
                            : (f.value().is_string() ? f.value().get<std::string>() : "");
                    if (pat.empty() || pat[0] == '*' || pat[0] == '?')
                        throw Refusal{403, "wildcard on [" + f.key() +
                                               "] starts with a wildcard (unbounded scan)"};
                }
            if ((k == "query_string" || k == "simple_query_string") && it.value().is_object()) {
                if (it.value().value("allow_leading_wildcard", false))
                    throw Refusal{403, here + ": allow_leading_wildcard is not allowed"};
                if (it.value().contains("query") && it.value()["query"].is_string())
                    check_lucene(it.value()["query"].get<std::string>(), here);
            }
            if (k == "terms" && it.value().is_object())
                for (auto f = it.value().begin(); f != it.value().end(); ++f)
                    if (f.value().is_object() &&
                        (f.value().contains("index") || f.value().contains("id")))
                        throw Refusal{403, "terms lookup is not allowed: it reads other indices (" +
                                               here + ")"};
            walk(it.value(), here);
        }
    }

    // Bucket aggregations: sizes multiplied down the tree stay under max_buckets.
    void aggs(const json& a, std::uint64_t multiplier, int depth) {
        if (!a.is_object()) throw Refusal{400, "aggregations must be an object"};
        if (depth > 4) throw Refusal{403, "aggregations nested deeper than 5 levels"};
        static const std::set<std::string> kSized = {
            "terms",      "significant_terms", "significant_text",
            "rare_terms", "multi_terms",       "composite"};
        static const std::set<std::string> kHistogram = {
            "histogram",    "date_histogram", "auto_date_histogram", "variable_width_histogram",
            "geohash_grid", "geotile_grid"};
        for (auto it = a.begin(); it != a.end(); ++it) {
            if (++count_ > cfg_.max_aggs)
                throw Refusal{403, "more than " + std::to_string(cfg_.max_aggs) + " aggregations"};
            if (!it.value().is_object())
                throw Refusal{400, "aggregation [" + it.key() + "] must be an object"};
            std::uint64_t buckets = 1;
            for (auto k = it.value().begin(); k != it.value().end(); ++k) {
                if (kSized.count(k.key())) {
                    buckets = std::max<std::uint64_t>(number(k.value(), "size", 10),
                                                      number(k.value(), "shard_size", 0));
                } else if (kHistogram.count(k.key())) {
                    if (k.value().is_object() && number(k.value(), "min_doc_count", 1) == 0)
                        throw Refusal{403, "aggregation [" + it.key() +
                                               "]: min_doc_count 0 (empty buckets) is not allowed"};
                    buckets = std::max<std::uint64_t>(
                        100, number(k.value(), "buckets", 100));  // counted as 100
                } else if (k.key() == "top_hits") {
                    if (number(k.value(), "size", 3) > cfg_.max_size)
                        throw Refusal{403,
                                      "aggregation [" + it.key() + "]: top_hits size over the cap"};
                }
            }
            const std::uint64_t total = multiplier * buckets;
            if (total > cfg_.max_buckets)
                throw Refusal{403, "aggregation [" + it.key() + "] may produce " +
                                       std::to_string(total) + " buckets, over the cap of " +
                                       std::to_string(cfg_.max_buckets)};
            for (const char* sub : {"aggs", "aggregations"})
                if (it.value().contains(sub)) aggs(it.value()[sub], total, depth + 1);
        }
    }

    const WrapperConfig& cfg_;
    std::uint64_t count_ = 0;
};

// Query parameters: only those on the API's list; the values of size/from/q are checked.
std::string check_params(const WrapperConfig& cfg, const std::string& query,
                         const std::set<std::string>& allowed, bool search) {
    std::string out;
    std::uint64_t size = 10, from = 0;
    for (const auto& [k, v] : net::query_params(query)) {
        if (!allowed.count(k))
            throw Refusal{403, "query parameter [" + k + "] is not allowed here"};
        if (k == "q") check_lucene(v, "q");
        if (k == "expand_wildcards" && v != "open")
            throw Refusal{403, "expand_wildcards other than open"};
        if (k == "size" || k == "from" || k == "terminate_after") {
            if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), ::isdigit))
                throw Refusal{400, "[" + k + "] must be a non-negative integer"};
            if (k == "size") size = std::stoull(v);
            if (k == "from") from = std::stoull(v);
            if (k == "terminate_after") continue;  // the body carries ours
        }
        if (k == "timeout") continue;  // the body carries ours
        out += (out.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
    }
    if (search && size > cfg.max_size)
        throw Refusal{403, "size " + std::to_string(size) + " is over the cap of " +
                               std::to_string(cfg.max_size)};
    if (search && from + size > cfg.max_window)
        throw Refusal{403, "from + size = " + std::to_string(from + size) + " is over the cap of " +
                               std::to_string(cfg.max_window)};
    return out;
}

std::string describe_refusal(const std::string& method, const std::vector<std::string>& parts) {
    static const std::set<std::string> kWrite = {"_bulk",
                                                 "_doc",
                                                 "_create",
                                                 "_update",
                                                 "_delete_by_query",
                                                 "_update_by_query",
                                                 "_reindex",
                                                 "_snapshot",
                                                 "_cluster",
                                                 "_security",
                                                 "_ilm",
                                                 "_index_template",
                                                 "_template",
                                                 "_component_template",
                                                 "_ingest",
                                                 "_scripts",
                                                 "_close",
                                                 "_open",
                                                 "_settings",
                                                 "_aliases",
                                                 "_alias",
                                                 "_rollover",
                                                 "_shrink",
                                                 "_split",
                                                 "_forcemerge",
                                                 "_refresh",
                                                 "_flush",
                                                 "_cache",
                                                 "_nodes",
                                                 "_tasks",
                                                 "_license",
                                                 "_xpack",
                                                 "_sql",
                                                 "_async_search",
                                                 "_pit",
                                                 "_eql",
                                                 "_transform",
                                                 "_ml",
                                                 "_watcher",
                                                 "_enrich",
                                                 "_data_stream",
                                                 "_searchable_snapshots",
                                                 "_field_caps",
                                                 "_explain",
                                                 "_termvectors",
                                                 "_mtermvectors",
                                                 "_mget",
                                                 "_rank_eval",
                                                 "_validate",
                                                 "_search_shards",
                                                 "_render",
                                                 "_shutdown",
                                                 "_features",
                                                 "_migration",
                                                 "_autoscaling",
                                                 "_ccr",
                                                 "_fleet",
                                                 "_graph",
                                                 "_logstash",
                                                 "_monitoring",
                                                 "_rollup",
                                                 "_slm",
                                                 "_text_structure",
                                                 "_query"};
    for (const auto& p : parts)
        if (kWrite.count(p)) return "the " + p + " API is not served: this is a read-only service";
    if (method != "GET" && method != "HEAD" && method != "POST" && method != "OPTIONS")
        return "method " + method + " is not allowed: this is a read-only service";
    if (parts.size() == 1 && !parts[0].empty() && parts[0][0] != '_')
        return "index-level requests (create, delete, settings) are not served";
    return "not served: only /<indices>/_search, _count, _msearch, _mapping, /_cat/indices and the "
           "endpoints in "
           "/openapi.json";
}

std::string iso_now() {
    const auto t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

std::string read_secret(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw util::ConfigError(path, {}, "cannot read");
    std::string s;
    std::getline(in, s);
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string base64(std::string_view in) {
    static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += {k[v >> 18], k[(v >> 12) & 63], i + 1 < in.size() ? k[(v >> 6) & 63] : '=', '='};
    }
    return out;
}

// Printable, bounded text for the access log (a target may be hostile).
std::string printable(std::string_view s, std::size_t max = 512) {
    std::string out;
    for (unsigned char c : s.substr(0, max))
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    if (s.size() > max) out += "...";
    return out;
}

}  // namespace

GuardResult guard_passthrough(const WrapperConfig& cfg, const std::string& method,
                              const std::string& path, const std::string& query,
                              const std::string& body) {
    GuardResult r;
    auto refuse = [&](int status, std::string reason) {
        r.status = status;
        r.reason = std::move(reason);
        return r;
    };
    std::vector<std::string> parts =
        split(path.size() > 1 ? std::string_view(path).substr(1) : std::string_view(), '/');
    for (auto& p : parts) p = net::percent_decode(p);
    const bool get = method == "GET" || method == "HEAD";
    const bool read = get || method == "POST";
    static const std::set<std::string> kSearchParams = {"size",
                                                        "from",
                                                        "q",
                                                        "sort",
                                                        "_source",
                                                        "_source_includes",
                                                        "_source_excludes",
                                                        "track_total_hits",
                                                        "timeout",
                                                        "terminate_after",
                                                        "filter_path",
                                                        "pretty",
                                                        "human",
                                                        "error_trace",
                                                        "ignore_unavailable",
                                                        "allow_no_indices",
                                                        "expand_wildcards",
                                                        "rest_total_hits_as_int",
                                                        "typed_keys",
                                                        "default_operator",
                                                        "df",
                                                        "lenient",
                                                        "allow_partial_search_results",
                                                        "request_cache",
                                                        "preference",
                                                        "routing",
                                                        "track_scores",
                                                        "version",
                                                        "seq_no_primary_term",
                                                        "batched_reduce_size",
                                                        "max_concurrent_shard_requests"};
    static const std::set<std::string> kCountParams = {"q",
                                                       "df",
                                                       "default_operator",
                                                       "lenient",
                                                       "terminate_after",
                                                       "ignore_unavailable",
                                                       "allow_no_indices",
                                                       "expand_wildcards",
                                                       "pretty",
                                                       "filter_path",
                                                       "routing",
                                                       "preference",
                                                       "min_score"};
    static const std::set<std::string> kMsearchParams = {
        "pretty", "filter_path", "rest_total_hits_as_int", "typed_keys", "max_concurrent_searches"};
    static const std::set<std::string> kMappingParams = {
        "pretty",           "filter_path",      "ignore_unavailable",
        "allow_no_indices", "expand_wildcards", "local"};
    static const std::set<std::string> kCatParams = {
        "format", "h", "s", "v", "bytes", "health", "pri", "pretty", "help", "expand_wildcards"};
    try {
        std::string bad;
        // GET /_cat/indices[/<indices>]: only allowed indices are ever listed.
        if (parts.size() >= 2 && parts[0] == "_cat" && parts[1] == "indices" && parts.size() <= 3 &&
            get) {
            std::string expr;
            if (parts.size() == 3) {
                if (!indices_allowed(cfg, parts[2], &bad))
                    return refuse(403, "index [" + bad + "] is not allowed");
                expr = parts[2];
            } else {
                for (const auto& a : cfg.allowed_indices) expr += (expr.empty() ? "" : ",") + a;
            }
            auto q = check_params(cfg, query, kCatParams, false);
            r.es_path = "/_cat/indices/" + percent_encode(expr) + (q.empty() ? "" : "?" + q);
            return r;
        }
        const bool msearch =
            !parts.empty() && parts.back() == "_msearch" && parts.size() <= 2 && read;
        if (msearch) {
            if (parts.size() == 2 && !indices_allowed(cfg, parts[0], &bad))
                return refuse(403, "index [" + bad + "] is not allowed");
            auto q = check_params(cfg, query, kMsearchParams, false);
            if (body.empty() || body.back() != '\n')
                return refuse(400, "_msearch: the body must be NDJSON ending in \\n");
            auto lines = split(body, '\n');
            lines.pop_back();
            if (lines.empty() || lines.size() % 2)
                return refuse(400, "_msearch: header and body lines must pair up");
            std::string out;
            for (std::size_t i = 0; i < lines.size(); i += 2) {
                json head = json::parse(lines[i], nullptr, false),
                     sbody = json::parse(lines[i + 1], nullptr, false);
                if (head.is_discarded() || !head.is_object() || sbody.is_discarded())
                    return refuse(
                        400, "_msearch: line " + std::to_string(i + 1) + " is not a JSON object");
                for (auto k = head.begin(); k != head.end(); ++k)
                    if (k.key() != "index" && k.key() != "preference" && k.key() != "routing" &&
                        k.key() != "ignore_unavailable" && k.key() != "allow_no_indices")
                        return refuse(403, "_msearch header key [" + k.key() + "] is not allowed");
                std::string expr = parts.size() == 2 ? parts[0] : "";
                if (head.contains("index")) {
                    if (head["index"].is_string()) {
                        expr = head["index"];
                    } else if (head["index"].is_array()) {
                        expr.clear();
                        for (const auto& e : head["index"])
                            expr += (expr.empty() ? "" : ",") +
                                    (e.is_string() ? e.get<std::string>() : std::string("?"));
                    } else {
                        return refuse(400, "_msearch: index must be a string or an array");
                    }
                }
                if (!indices_allowed(cfg, expr, &bad))
                    return refuse(403, "index [" + bad + "] is not allowed");
                BodyGuard(cfg).search(sbody, false);
                out += head.dump() + "\n" + sbody.dump() + "\n";
            }
            r.es_path = "/" + (parts.size() == 2 ? percent_encode(parts[0]) + "/" : std::string()) +
                        "_msearch" + (q.empty() ? "" : "?" + q);
            r.body = std::move(out);
            r.content_type = "application/x-ndjson";
            return r;
        }
        if (parts.size() == 2 && (parts[1] == "_search" || parts[1] == "_count") && read) {
            if (!indices_allowed(cfg, parts[0], &bad))
                return refuse(403, "index [" + bad + "] is not allowed");
            const bool count = parts[1] == "_count";
            auto q = check_params(cfg, query, count ? kCountParams : kSearchParams, !count);
            json b = body.empty() ? json::object() : json::parse(body, nullptr, false);
            if (b.is_discarded()) return refuse(400, "the body is not valid JSON");
            BodyGuard(cfg).search(b, count);
            if (count)
                q += std::string(q.empty() ? "" : "&") +
                     "terminate_after=" + std::to_string(cfg.terminate_after);
            r.es_path =
                "/" + percent_encode(parts[0]) + "/" + parts[1] + (q.empty() ? "" : "?" + q);
            r.body = b.dump();
            return r;
        }
        if (parts.size() == 2 && parts[1] == "_mapping" && get) {
            if (!indices_allowed(cfg, parts[0], &bad))
                return refuse(403, "index [" + bad + "] is not allowed");
            if (!body.empty()) return refuse(400, "_mapping takes no body");
            auto q = check_params(cfg, query, kMappingParams, false);
            r.es_path = "/" + percent_encode(parts[0]) + "/_mapping" + (q.empty() ? "" : "?" + q);
            return r;
        }
        return refuse(403, describe_refusal(method, parts));
    } catch (const Refusal& e) {
        return refuse(e.status, e.reason);
    }
}

WrapperConfig WrapperConfig::from_toml(const util::TomlDoc& doc) {
    doc.reject_unknown_keys({"wrapper", "log"});
    util::TomlTable t = doc.table("wrapper");
    t.reject_unknown_keys({"listen",
                           "port",
                           "es_url",
                           "es_user",
                           "es_password_file",
                           "es_api_key_file",
                           "es_ca_file",
                           "es_timeout",
                           "search_timeout",
                           "terminate_after",
                           "allowed_indices",
                           "history_index",
                           "max_size",
                           "max_window",
                           "max_buckets",
                           "max_aggs",
                           "max_body",
                           "rate",
                           "burst",
                           "cors_origins",
                           "access_log",
                           "trust_forwarded_for",
                           "tls_cert",
                           "tls_key",
                           "max_connections",
                           "max_connections_per_ip",
                           "request_timeout"});
    WrapperConfig c;
    auto ms = [](util::Duration d) { return duration_cast<milliseconds>(d); };
    c.listen = t.get_string("listen", c.listen);
    c.port = static_cast<std::uint16_t>(t.get_int("port", c.port, 0, 65535));
    c.es_url = t.get_string("es_url", c.es_url);
    c.es_user = t.get_string("es_user", c.es_user);
    c.es_password_file = t.get_string("es_password_file", c.es_password_file);
    c.es_api_key_file = t.get_string("es_api_key_file", c.es_api_key_file);
    c.es_ca_file = t.get_string("es_ca_file", c.es_ca_file);
    c.es_timeout = ms(t.get_duration("es_timeout", c.es_timeout, milliseconds(100)));
    c.search_timeout = ms(t.get_duration("search_timeout", c.search_timeout, milliseconds(10)));
    c.terminate_after = t.get_size("terminate_after", c.terminate_after, 1);
    c.allowed_indices = t.get_string_array("allowed_indices", c.allowed_indices);
    c.history_index = t.get_string("history_index", c.history_index);
    c.max_size = t.get_size("max_size", c.max_size, 1, 10'000);
    c.max_window = t.get_size("max_window", c.max_window, 1, 1'000'000);
    c.max_buckets = t.get_size("max_buckets", c.max_buckets, 1, 65'536);
    c.max_aggs = t.get_size("max_aggs", c.max_aggs, 0, 1000);
    c.max_body = t.get_size("max_body", c.max_body, 1024, 64u << 20);
    c.rate = t.get_double("rate", c.rate, 0.001);
    c.burst = t.get_double("burst", c.burst, 1);
    c.cors_origins = t.get_string_array("cors_origins", c.cors_origins);
    c.access_log = t.get_string("access_log", c.access_log);
    c.trust_forwarded_for = t.get_bool("trust_forwarded_for", c.trust_forwarded_for);
    c.tls_cert = t.get_string("tls_cert", c.tls_cert);
    c.tls_key = t.get_string("tls_key", c.tls_key);
    c.max_connections = t.get_size("max_connections", c.max_connections, 1, 100'000);
    c.max_connections_per_ip =
        t.get_size("max_connections_per_ip", c.max_connections_per_ip, 1, 100'000);
    c.request_timeout = ms(t.get_duration("request_timeout", c.request_timeout, milliseconds(100)));
    return c;
}

void WrapperConfig::validate() const {
    using util::check_config;
    check_config(es_url.rfind("http://", 0) == 0 || es_url.rfind("https://", 0) == 0,
                 "wrapper.es_url", "must start with http:// or https://");
    const auto authority = es_url.substr(es_url.find("//") + 2);
    check_config(authority.substr(0, authority.find('/')).find('@') == std::string::npos,
                 "wrapper.es_url",
                 "no credentials in the URL: use es_user + es_password_file, or es_api_key_file");
    check_config(es_user.empty() || !es_password_file.empty(), "wrapper.es_password_file",
                 "es_user needs it");
    check_config(es_user.empty() || es_api_key_file.empty(), "wrapper.es_api_key_file",
                 "give es_user/es_password_file or es_api_key_file, not both");
    check_config(!allowed_indices.empty(), "wrapper.allowed_indices", "must not be empty");
    for (const auto& p : allowed_indices)
        check_config(!p.empty() && p != "*" && p[0] != '_' && p[0] != '-' && p[0] != '.' &&
                         p.find_first_of(",:<> ") == std::string::npos,
                     "wrapper.allowed_indices",
                     "\"" + p +
                         "\" is not a plain index pattern (no \"*\" alone, system or hidden "
                         "indices, lists)");
    std::string bad;
    check_config(indices_allowed(*this, history_index, &bad), "wrapper.history_index",
                 "\"" + history_index + "\" is not covered by allowed_indices");
    check_config(max_size <= max_window, "wrapper.max_window", "must be at least max_size");
    check_config(search_timeout < es_timeout, "wrapper.search_timeout",
                 "must be shorter than es_timeout (ES must give up before we do)");
    check_config(burst >= 1, "wrapper.burst", "must be at least 1");
    check_config(tls_cert.empty() == tls_key.empty(),
                 tls_cert.empty() ? "wrapper.tls_cert" : "wrapper.tls_key",
                 "tls_cert and tls_key go together");
    check_config(max_connections_per_ip <= max_connections, "wrapper.max_connections_per_ip",
                 "must not exceed max_connections");
    for (const auto& o : cors_origins)
        check_config(o == "*" || o.rfind("http://", 0) == 0 || o.rfind("https://", 0) == 0,
                     "wrapper.cors_origins",
                     "\"" + o + "\" is neither \"*\" nor an origin (https://host[:port])");
}

struct EsWrapper::Impl {
    Impl(boost::asio::io_context& io, WrapperConfig c, std::shared_ptr<spdlog::logger> l)
        : ioc(io), cfg(std::move(c)), log(std::move(l)) {
        net::HttpClientConfig hc;
        hc.request_timeout = cfg.es_timeout;
        hc.connect_timeout = std::min(cfg.es_timeout, milliseconds(5000));
        hc.user_agent = "bts-es-wrapper";
        hc.max_idle_per_origin = 64;
        hc.logger = log;
        if (!cfg.es_ca_file.empty()) hc.tls.ca_file = cfg.es_ca_file;
        client = std::make_unique<net::HttpClient>(ioc, hc);
        if (!cfg.es_api_key_file.empty()) {
            std::string key = read_secret(cfg.es_api_key_file);
            auth = "ApiKey " + (key.find(':') != std::string::npos ? base64(key) : key);
        } else if (!cfg.es_user.empty()) {
            auth = "Basic " + base64(cfg.es_user + ":" + read_secret(cfg.es_password_file));
        }
        base = cfg.es_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        if (cfg.access_log == "-") {
            access = stdout;
        } else if (!cfg.access_log.empty()) {
            access = std::fopen(cfg.access_log.c_str(), "a");
            if (!access) throw std::runtime_error("cannot open access log " + cfg.access_log);
            own_access = true;
        }
        net::HttpServerOptions o;
        o.address = cfg.listen;
        o.port = cfg.port;
        o.server_name = "bts-es-wrapper";
        o.limits.max_connections = cfg.max_connections;
        o.limits.max_connections_per_ip = cfg.max_connections_per_ip;
        o.limits.request_timeout = cfg.request_timeout;
        o.limits.max_body_bytes = cfg.max_body;
        o.limits.max_event_streams = 1;
        o.tls.cert_file = cfg.tls_cert;
        o.tls.key_file = cfg.tls_key;
        o.default_headers = {{"X-Content-Type-Options", "nosniff"}};
        server = std::make_unique<net::HttpServer>(
            ioc, o, [this](net::HttpServerRequest&& r, net::HttpServer::Respond respond) {
                handle(std::move(r), std::move(respond));
            });
    }

    ~Impl() {
        if (own_access && access) std::fclose(access);
    }

    struct Bucket {
        double tokens;
        Clock::time_point last;
    };

    std::string client_ip(const net::HttpServerRequest& r) const {
        if (cfg.trust_forwarded_for) {
            std::string_view xff = r.header("x-forwarded-for");
            if (!xff.empty()) {
                auto comma = xff.rfind(',');
                std::string ip(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
                ip.erase(0, ip.find_first_not_of(' '));
                if (!ip.empty() && ip.size() < 64) return ip;
            }
        }
        return r.remote_ip;
    }

    // Token bucket per client; the table is pruned when it grows (full buckets carry no state).
    bool admit(const std::string& ip, double* retry_after) {
        const auto now = Clock::now();
        if (buckets.size() > 100'000) {
            for (auto it = buckets.begin(); it != buckets.end();) {
                const double t =
                    it->second.tokens +
                    std::chrono::duration<double>(now - it->second.last).count() * cfg.rate;
                it = t >= cfg.burst ? buckets.erase(it) : std::next(it);
            }
        }
        auto [it, fresh] = buckets.try_emplace(ip, Bucket{cfg.burst, now});
        Bucket& b = it->second;
        b.tokens = std::min(
            cfg.burst, b.tokens + std::chrono::duration<double>(now - b.last).count() * cfg.rate);
        b.last = now;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return true;
        }
        *retry_after = (1 - b.tokens) / cfg.rate;
        return false;
    }

    void cors(const net::HttpServerRequest& r, net::HttpServerResponse& resp) const {
        std::string_view origin = r.header("origin");
        for (const auto& o : cfg.cors_origins) {
            if (o == "*") {
                resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
                return;
            }
            if (!origin.empty() && o == origin) {
                resp.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
                resp.headers.emplace_back("Vary", "Origin");
                return;
            }
        }
    }

    static net::HttpServerResponse error(int status, const std::string& type,
                                         const std::string& reason) {
        net::HttpServerResponse resp;
        resp.status = status;
        resp.body =
            json{{"error", {{"type", type}, {"reason", reason}}}, {"status", status}}.dump();
        return resp;
    }

    void finish(const net::HttpServerRequest& r, const std::string& ip,
                net::HttpServerResponse resp, const net::HttpServer::Respond& respond,
                long upstream_ms) {
        cors(r, resp);
        if (access) {
            const auto ms =
                duration_cast<std::chrono::microseconds>(Clock::now() - r.received).count() /
                1000.0;
            json line = {{"@timestamp", iso_now() + "Z"},
                         {"client", ip},
                         {"method", printable(r.method, 16)},
                         {"target", printable(r.target)},
                         {"status", resp.status},
                         {"bytes", resp.body.size()},
                         {"ms", ms}};
            if (upstream_ms >= 0) line["upstream_ms"] = upstream_ms;
            std::string text = line.dump() + "\n";
            std::fwrite(text.data(), 1, text.size(), access);
            std::fflush(access);
        }
        respond(std::move(resp));
    }

    // Sends one request to Elasticsearch; `shape` turns its JSON answer into ours (null = as is).
    void upstream(const net::HttpServerRequest& r, const std::string& ip, const std::string& method,
                  const std::string& path, std::string body, const std::string& content_type,
                  std::function<net::HttpServerResponse(int, const std::string&)> shape,
                  net::HttpServer::Respond respond) {
        net::HttpRequest req;
        req.method = method;
        req.url = base + path;
        req.body = std::move(body);
        if (!req.body.empty() || method == "POST")
            req.headers.emplace_back("Content-Type", content_type);
        if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
        const auto started = Clock::now();
        client->request(std::move(req), [this, r, ip, shape = std::move(shape),
                                         respond = std::move(respond),
                                         started](net::HttpResponse&& es) {
            const long ms =
                static_cast<long>(duration_cast<milliseconds>(Clock::now() - started).count());
            if (!es.ok()) {
                ++upstream_failures;
                log->warn("elasticsearch: {}", es.error);
                finish(r, ip,
                       es.timed_out
                           ? error(504, "gateway_timeout", "Elasticsearch did not answer in time")
                           : error(502, "bad_gateway", "Elasticsearch is unreachable"),
                       respond, ms);
                return;
            }
            net::HttpServerResponse resp;
            if (shape) {
                resp = shape(es.status, es.body);
            } else {
                resp.status = es.status;
                resp.body = std::move(es.body);
                std::string_view ct = es.header("content-type");
                resp.content_type = ct.empty() ? "application/json" : std::string(ct);
            }
            finish(r, ip, std::move(resp), respond, ms);
        });
    }

    void handle(net::HttpServerRequest&& r, net::HttpServer::Respond respond) {
        const std::string ip = client_ip(r);
        double retry = 0;
        if (!admit(ip, &retry)) {
            auto resp = error(429, "too_many_requests",
                              "rate limit: " + json(cfg.rate).dump() + " requests/s per client");
            resp.headers.emplace_back("Retry-After",
                                      std::to_string(static_cast<long>(std::ceil(retry))));
            return finish(r, ip, std::move(resp), respond, -1);
        }
        if (r.method == "OPTIONS") {
            net::HttpServerResponse resp;
            resp.status = 204;
            resp.headers = {{"Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"},
                            {"Access-Control-Allow-Headers", "Content-Type"},
                            {"Access-Control-Max-Age", "600"}};
            return finish(r, ip, std::move(resp), respond, -1);
        }
        const bool get = r.method == "GET" || r.method == "HEAD";
        if (get && (r.path == "/openapi.json" || r.path == "/")) {
            net::HttpServerResponse resp;
            resp.body = r.path == "/"
                            ? json{{"name", "bts-es-wrapper"}, {"openapi", "/openapi.json"}}.dump()
                            : kOpenApi;
            resp.cache_control = "max-age=300";
            return finish(r, ip, std::move(resp), respond, -1);
        }
        if (r.path == "/get_account_history" || r.path == "/get_single_operation" ||
            r.path == "/get_trx" || r.path == "/is_alive") {
            if (!get)
                return finish(r, ip, error(405, "method_not_allowed", "GET only"), respond, -1);
            return community(r, ip, std::move(respond));
        }
        GuardResult g = guard_passthrough(cfg, r.method, r.path, r.query, r.body);
        if (g.status != 200) {
            ++refused;
            return finish(r, ip,
                          error(g.status, g.status == 403 ? "forbidden" : "bad_request", g.reason),
                          respond, -1);
        }
        const std::string method = r.method == "HEAD" ? "GET" : r.body.empty() ? "GET" : "POST";
        upstream(r, ip, g.body.empty() ? method : "POST", g.es_path, g.body, g.content_type,
                 nullptr, std::move(respond));
    }

    static std::string hits_sources(int status, const std::string& body,
                                    net::HttpServerResponse& resp) {
        json j = json::parse(body, nullptr, false);
        if (j.is_discarded() || status != 200 || !j.contains("hits")) {
            resp.status = status == 200 ? 502 : status;
            return j.is_discarded() ? json{{"error",
                                            {{"type", "bad_gateway"},
                                             {"reason", "bad answer from Elasticsearch"}}}}
                                          .dump()
                                    : j.dump();
        }
        json out = json::array();
        for (const auto& h : j["hits"]["hits"]) out.push_back(h.value("_source", json::object()));
        return out.dump();
    }

    void community(const net::HttpServerRequest& r, const std::string& ip,
                   net::HttpServer::Respond respond) {
        auto param = [&](const char* k, const std::string& fallback) {
            for (const auto& [key, v] : net::query_params(r.query))
                if (key == k) return v;
            return fallback;
        };
        auto uint_param = [&](const char* k,
                              std::uint64_t fallback) -> std::optional<std::uint64_t> {
            std::string v = param(k, std::to_string(fallback));
            if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), ::isdigit))
                return std::nullopt;
            return std::stoull(v);
        };
        auto bad = [&](const std::string& why) {
            finish(r, ip, error(400, "bad_request", why), respond, -1);
        };
        auto object_id = [](const std::string& s, const std::string& prefix) {
            return s.rfind(prefix, 0) == 0 && s.size() > prefix.size() && s.size() < 32 &&
                   std::all_of(s.begin() + static_cast<long>(prefix.size()), s.end(), ::isdigit);
        };
        json body;
        std::function<net::HttpServerResponse(int, const std::string&)> shape =
            [](int status, const std::string& b) {
                net::HttpServerResponse resp;
                resp.body = hits_sources(status, b, resp);
                return resp;
            };
        if (r.path == "/get_single_operation") {
            const std::string id = param("operation_id", "1.11.0");
            if (!object_id(id, "1.11.")) return bad("operation_id must be 1.11.N");
            body = {{"size", 1}, {"query", {{"match", {{"account_history.operation_id", id}}}}}};
        } else if (r.path == "/get_trx") {
            const std::string trx = param("trx", "");
            auto from = uint_param("from_", 0), size = uint_param("size", 10);
            if (trx.size() != 40 || !std::all_of(trx.begin(), trx.end(), ::isxdigit))
                return bad("trx must be a transaction id (40 hex digits)");
            if (!from || !size) return bad("from_ and size must be non-negative integers");
            if (*size > cfg.max_size || *from + *size > cfg.max_window)
                return finish(r, ip, error(403, "forbidden", "size/from_ over the caps"), respond,
                              -1);
            body = {{"size", *size},
                    {"from", *from},
                    {"query", {{"match", {{"block_data.trx_id", trx}}}}}};
        } else if (r.path == "/is_alive") {
            body = {{"size", 1},
                    {"sort", json::array({{{"block_data.block_num", {{"order", "desc"}}}}})},
                    {"_source", json::array({"block_data"})}};
            shape = [](int status, const std::string& b) {
                net::HttpServerResponse resp;
                json out = {{"server_time", iso_now()},
                            {"head_block_timestamp", nullptr},
                            {"head_block_time", nullptr}};
                json j = json::parse(b, nullptr, false);
                if (status == 404) {
                    out.update({{"status", "out_of_sync"},
                                {"deltatime", "Infinite"},
                                {"error", "index_not_found"}});
                } else if (j.is_discarded() || status != 200 || j["hits"]["hits"].empty()) {
                    out.update({{"status", "out_of_sync"},
                                {"deltatime", "Infinite"},
                                {"error", "no_blocks"}});
                } else {
                    const std::string t =
                        j["hits"]["hits"][0]["_source"]["block_data"].value("block_time", "");
                    std::tm tm{};
                    const bool parsed = strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr;
                    const long long ts = parsed ? static_cast<long long>(timegm(&tm)) : 0;
                    const double delta =
                        parsed ? std::abs(static_cast<double>(std::time(nullptr) - ts)) : -1;
                    out["head_block_time"] = t;
                    out["head_block_timestamp"] = ts * 1000;
                    out["deltatime"] = delta;
                    out["status"] = parsed && delta < 30 ? "ok" : "out_of_sync";
                    if (out["status"] != "ok") out["error"] = "last_block_too_old";
                }
                resp.body = out.dump();
                return resp;
            };
        } else {  // get_account_history
            const std::string account = param("account_id", ""), type = param("type", "data");
            const std::string op_type = param("operation_type", "");
            auto from = uint_param("from_", 0), size = uint_param("size", 10);
            std::string sort_by = param("sort_by", "-block_data.block_time");
            const std::string agg_field = param("agg_field", "operation_type");
            if (!account.empty() && !object_id(account, "1.2."))
                return bad("account_id must be 1.2.N");
            if (!op_type.empty() &&
                (op_type.size() > 4 || !std::all_of(op_type.begin(), op_type.end(), ::isdigit)))
                return bad("operation_type must be a number");
            if (!from || !size) return bad("from_ and size must be non-negative integers");
            if (type != "data" && type != "count") return bad("type must be data or count");
            auto field_ok = [](const std::string& f) {
                return !f.empty() && f.size() < 128 && std::all_of(f.begin(), f.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_';
                });
            };
            const bool desc = !sort_by.empty() && sort_by[0] == '-';
            if (desc) sort_by.erase(0, 1);
            if (!field_ok(sort_by))
                return bad("sort_by must be a field name, optionally with a leading -");
            if (type == "count" && !field_ok(agg_field))
                return bad("agg_field must be a field name");
            const std::uint64_t cap = type == "count" ? cfg.max_buckets : cfg.max_size;
            if (*size > cap || (type == "data" && *from + *size > cfg.max_window))
                return finish(r, ip, error(403, "forbidden", "size/from_ over the caps"), respond,
                              -1);
            json must = json::array();
            if (!account.empty())
                must.push_back({{"match", {{"account_history.account", account}}}});
            if (!op_type.empty())
                must.push_back({{"match", {{"operation_type", std::stoi(op_type)}}}});
            must.push_back({{"range",
                             {{"block_data.block_time",
                               {{"gte", param("from_date", "2015-10-10")},
                                {"lte", param("to_date", "now")}}}}}});
            body = {{"query", {{"bool", {{"must", must}}}}},
                    {"sort", json::array({{{sort_by, {{"order", desc ? "desc" : "asc"}}}}})}};
            if (type == "data") {
                body["size"] = *size;
                body["from"] = *from;
            } else {
                body["size"] = 0;
                body["aggs"] = {
                    {"per_field", {{"terms", {{"field", agg_field}, {"size", *size}}}}}};
                shape = [](int status, const std::string& b) {
                    net::HttpServerResponse resp;
                    json j = json::parse(b, nullptr, false);
                    if (j.is_discarded() || status != 200 || !j.contains("aggregations")) {
                        resp.status = status == 200 ? 502 : status;
                        resp.body = j.is_discarded() ? "{}" : j.dump();
                        return resp;
                    }
                    json out = json::array();
                    for (const auto& bk : j["aggregations"]["per_field"]["buckets"])
                        out.push_back({{"key", bk["key"]}, {"doc_count", bk["doc_count"]}});
                    resp.body = out.dump();
                    return resp;
                };
            }
        }
        body["timeout"] = std::to_string(cfg.search_timeout.count()) + "ms";
        body["terminate_after"] = cfg.terminate_after;
        upstream(r, ip, "POST", "/" + percent_encode(cfg.history_index) + "/_search", body.dump(),
                 "application/json", std::move(shape), std::move(respond));
    }

    boost::asio::io_context& ioc;
    WrapperConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    std::unique_ptr<net::HttpClient> client;
    std::unique_ptr<net::HttpServer> server;
    std::string base;
    std::string auth;
    std::FILE* access = nullptr;
    bool own_access = false;
    std::unordered_map<std::string, Bucket> buckets;
    std::uint64_t refused = 0;
    std::uint64_t upstream_failures = 0;
};

EsWrapper::EsWrapper(boost::asio::io_context& ioc, WrapperConfig cfg,
                     std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(ioc, std::move(cfg),
                                   log ? std::move(log) : spdlog::default_logger())) {}

EsWrapper::~EsWrapper() {
    stop();
}

std::uint16_t EsWrapper::port() const {
    return impl_->server->port();
}
const net::HttpServerStats& EsWrapper::server_stats() const {
    return impl_->server->stats();
}
void EsWrapper::stop() {
    impl_->server->stop();
}

}  // namespace bts::eswrapper
