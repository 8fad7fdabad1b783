// What the collector stores, in one place: message validation beyond decoding, deterministic
// document ids, Elasticsearch bulk items (ECS-style JSON) and the index templates they rely on.
//
// Document ids (the same in the embedded store and Elasticsearch, so a replay is stored once):
//   interval  <run_id>/<beacon_id>/<seq>        create
//   totals    <run_id>/<second_unix>            index, version = intervals merged (external)
//   event     <run_id>/<source>/<unix_ms>/<h>   create; h = 16 hex digits of FNV-1a over all fields
//   uptime    <endpoint>/<unix_ms>              create
// run_id and beacon_id may not contain '/', so these ids are unambiguous.
#pragma once

#include "common/wire.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bts::collector {

inline constexpr std::size_t kMaxIdBytes = 128;

// Run and beacon ids: 1..128 printable ASCII characters, no '/', no space.
[[nodiscard]] bool valid_id(std::string_view s);
// Event sources and uptime endpoint names: 1..128 bytes, no control characters.
[[nodiscard]] bool valid_name(std::string_view s);

// Checks what decode() cannot: ids, interval length. nullopt when the message may be stored.
// Message types the collector does not store (hello, heartbeat, ...) give a reason too.
[[nodiscard]] std::optional<std::string> check_storable(const wire::Message& m);

// Histogram::percentile() computed on the sparse form (no 24 KiB dense histogram per call).
[[nodiscard]] std::uint64_t sparse_percentile(const util::SparseHistogram& h, double p);
[[nodiscard]] std::uint64_t total_rejected(const wire::ClassCounts& c);

// One histogram's figures, computed in one pass over its buckets.
struct LatencySummary {
    std::uint64_t count = 0, sum = 0, min = 0, max = 0, p50 = 0, p90 = 0, p99 = 0;
};
[[nodiscard]] LatencySummary summarize(const util::SparseHistogram& h);

// What the store and the Elasticsearch document derive from an interval, computed once.
struct IntervalSummary {
    std::uint64_t rejected = 0;
    LatencySummary acceptance;            // from the intended send time
    LatencySummary acceptance_from_send;
    LatencySummary inclusion;
};
[[nodiscard]] IntervalSummary summarize(const wire::StatsInterval& m);

[[nodiscard]] std::string doc_id(const wire::StatsInterval& m);
[[nodiscard]] std::string doc_id(const wire::ClusterTotals& m);
[[nodiscard]] std::string doc_id(const wire::RunEvent& m);
[[nodiscard]] std::string doc_id(const wire::UptimeResult& m);

// "2024-05-01T12:00:00.123Z".
[[nodiscard]] std::string iso8601_ms(std::int64_t unix_ms);
// Standard base64 with padding.
[[nodiscard]] std::string base64(std::string_view bytes);

// Index names: <prefix>-intervals, -totals, -events, -uptime.
struct EsIndices {
    explicit EsIndices(std::string_view prefix);
    std::string intervals, totals, events, uptime;
};

// Appends one _bulk item (action line and document line, each ending in '\n'). The interval's
// wire frame goes into the document (wire.frame, base64, not indexed) so exact histograms can
// be merged offline; the indexed fields carry counts and percentiles.
void append_bulk_item(std::string& out, const EsIndices& ix, const wire::StatsInterval& m,
                      const IntervalSummary& summary, std::string_view frame);
void append_bulk_item(std::string& out, const EsIndices& ix, const wire::StatsInterval& m);
// `version` (≥ 1) grows whenever the second is revised, so an older revision replayed after a
// newer one is refused with 409 instead of overwriting it.
void append_bulk_item(std::string& out, const EsIndices& ix, const wire::ClusterTotals& m,
                      std::uint64_t version);
void append_bulk_item(std::string& out, const EsIndices& ix, const wire::RunEvent& m);
void append_bulk_item(std::string& out, const EsIndices& ix, const wire::UptimeResult& m);

// Composable index templates (PUT _index_template/<name>), one per index: name and JSON body.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> index_templates(std::string_view prefix);

// A message as one line of JSON, field names as in wire.hpp plus "type" (bts-tail --json).
[[nodiscard]] std::string message_json(const wire::Message& m);

}  // namespace bts::collector
