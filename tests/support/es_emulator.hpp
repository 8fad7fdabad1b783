// Test support: an Elasticsearch emulator — a real HTTP/1.1 server implementing the parts of the
// Elasticsearch 7/8 REST API that bts-collector, bitshares-core's elasticsearch and es_objects
// plugins, bts-ctl es and bts-es-wrapper use, answering as Elasticsearch documents it, plus fault
// injection. Not shipped; docs/elasticsearch.md lists what it does not cover.
//
// Endpoints:
//   GET  /                          cluster info (version.number from Options::version, 8.13.0)
//   GET  /_nodes[/...]              node info (bitshares-core's health check)
//   GET  /_cluster/health           status green
//   GET|PUT /_cluster/settings      persistent/transient; ?include_defaults adds the disk
//                                   watermarks; ?flat_settings flattens
//   GET  /_cat/indices[/<index>], /_cat/allocation   text table, or JSON with ?format=json
//   PUT|GET|DELETE /_index_template/<name>   composable templates (GET without name: all)
//   PUT|GET|DELETE /_ilm/policy/<name>       lifecycle policies
//   POST /_bulk, /<index>/_bulk     NDJSON: create / index (version_type external[_gte]) /
//                                   delete (no source line); per-item results; create on an
//                                   existing _id → 409 version_conflict_engine_exception; delete
//                                   of a missing _id → 404 "not_found" (not an error); delete in
//                                   a missing index → 404 index_not_found_exception (an error);
//                                   "_type" in an action → 400 on 8.x, accepted on 7.x;
//                                   documents checked against the mapping of the matching
//                                   template (+ dynamic mapping): a value of the wrong type →
//                                   400 mapper_parsing_exception
//   GET|POST /<index>/_count        query: match_all, term, terms, match, range, exists, ids,
//                                   bool, query_string (field:value, [a TO b], AND/OR/NOT)
//   GET|POST /<index>/_search       same queries (also ?q=, ?size=, ?from=); size/from
//                                   (≤ 10000), sort on one field, aggs sum/min/max/avg/
//                                   value_count/cardinality/terms
//   GET|POST /_msearch, /<index>/_msearch    NDJSON header/body pairs
//   POST /<index>/_delete_by_query  same queries
//   GET  /<index>/_mapping          the mapping (template + dynamic fields)
//   GET  /<index>/_doc/<id>         one document
//   POST /_refresh, /<index>/_refresh   no-op (documents are searchable at once)
//   DELETE /<index>                 drops indices
//   POST /_emulator/faults          {"phases":[{"mode":M,"fraction":F,"duration_ms":D}, ...]}
//                                   run in order from now; GET shows them; [] clears
//   GET  /_emulator/stats           counters (requests, items by outcome, faults applied)
//   GET|DELETE /_emulator/requests  every request received outside /_emulator/ ("METHOD target")
// <index> may be a comma-separated list with * wildcards. Query parameters such as timeout,
// terminate_after, filter_path are accepted and ignored.
//
// Fault modes: "ok"; "refuse" (every connection is reset on accept: Elasticsearch down);
// "unavailable" (every request answered 503); "drop" (the request is read, the connection
// closed without an answer); "stall" (no answer until the phase ends, then closed);
// "bulk_429" (every _bulk answered 429); "items_429" / "items_503" / "items_400" (that fraction of
// _bulk items fail with that status, chosen by a seeded generator; the rest are processed).
// Faults affect all paths except /_emulator/*.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bts::test {

struct EsFaultPhase {
    std::string mode = "ok";
    double fraction = 1.0;  // items_* modes
    std::chrono::milliseconds duration{0};  // 0 = until replaced
};

// "refuse:30s,items_429=0.33:30s" → phases. Throws std::invalid_argument.
std::vector<EsFaultPhase> parse_fault_schedule(const std::string& text);

class EsEmulator {
public:
    struct Options {
        std::uint16_t port = 0;  // 0 = any free port
        std::string api_key;     // require "Authorization: ApiKey <api_key>" (already base64)
        std::string username;    // require basic auth
        std::string password;
        std::uint64_t seed = 1;  // for items_* faults
        std::size_t max_body_bytes = 200u << 20;
        std::string version = "8.13.0";  // version.number of GET / ("7.17.0": 7.x behaviour)
        int disk_percent = 42;            // disk.percent of /_cat/allocation
    };

    explicit EsEmulator(Options options);  // starts listening; throws std::runtime_error
    ~EsEmulator();
    EsEmulator(const EsEmulator&) = delete;
    EsEmulator& operator=(const EsEmulator&) = delete;

    std::uint16_t port() const;
    std::string url() const;  // http://127.0.0.1:<port>

    void set_faults(std::vector<EsFaultPhase> phases);  // replaces the schedule, starting now
    // The fault in force now ("ok" when the schedule is over).
    std::string current_fault() const;

    // In-process inspection (tests).
    std::size_t count(const std::string& index_pattern) const;
    std::vector<nlohmann::json> documents(const std::string& index_pattern) const;  // _source
    nlohmann::json stats() const;
    bool has_template(const std::string& name) const;
    bool has_document(const std::string& index, const std::string& id) const;
    // Every request received outside /_emulator/, as "METHOD target", oldest first (at most 100k).
    std::vector<std::string> received() const;
    void clear_received();
    void set_disk_percent(int percent);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace bts::test
