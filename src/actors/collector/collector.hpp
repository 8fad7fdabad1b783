// bts-collector as an actor: receives every beacon's per-second statistics, bts-uptime's probe
// results and run events, stores each exactly once, computes per-second cluster totals and
// streams everything live.
//
// Sockets (endpoints from CollectorConfig; tcp://, ipc:// or inproc://):
//   listen   PULL, bound. One frame per message: a bts::wire envelope (wire.hpp) holding a
//            StatsInterval, RunEvent or UptimeResult. Anything else — undecodable, invalid
//            (check_storable), multi-frame, or another message type — is counted, warned
//            about at a limited rate and dropped. Frames over 1 MiB disconnect the sender. CURVE (zcert/zauth) as configured; required
//            off loopback unless `insecure`.
//   publish  PUB, bound. Two frames: topic, then the wire frame (or JSON for collector/…):
//              interval/<run_id>/<beacon_id>   StatsInterval, as received (first copy only)
//              totals/<run_id>                 ClusterTotals, per second (again when revised)
//              event/<run_id>/<source>         RunEvent
//              uptime/<endpoint>               UptimeResult
//              collector/<instance>            JSON self-report (CollectorStats fields)
//            SUB prefixes select by kind, run and beacon ("interval/run-7/").
//
// Delivery: at-least-once in, exactly-once stored. Messages are idempotent by document id
// (documents.hpp): a message received twice (a beacon's resend, a replay) is stored and
// published once and counted in `duplicates`. Before a batch of rows is committed to the
// store, its Elasticsearch documents are appended to the spool, so a crash between the two
// loses nothing: the resent message is new to the store again and a duplicate to
// Elasticsearch (409). What PUSH/PULL can lose — messages inside a dying collector's socket
// buffers — is covered by the sender's resend window (docs/collector.md, "Delivery").
//
// Pipe commands (from the owning thread, as in CZMQ actors):
//   "$TERM"   drain the PULL socket until idle for drain_on_stop, emit every pending total,
//             commit, sync the spool, exit
//   "FLUSH"   emit every changed total now, commit, sync; replies "OK" (tests, tools)
//
// Threads: the collector thread (sockets, store, aggregator, spool writer) and, when
// Elasticsearch is enabled, the sink thread (spool reader). stats() may be called anywhere.
#pragma once

#include "actors/collector/config.hpp"
#include "actors/collector/es_sink.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace bts::collector {

struct CollectorStats {
    std::uint64_t received = 0;       // messages read from PULL
    std::uint64_t malformed = 0;      // undecodable or multi-frame
    std::uint64_t invalid = 0;        // decoded but not storable (bad ids, wrong type, ...)
    std::uint64_t duplicates = 0;     // already stored (resends, replays)
    std::uint64_t intervals = 0;      // newly stored, per kind
    std::uint64_t events = 0;
    std::uint64_t uptime = 0;
    std::uint64_t totals_emitted = 0;
    std::uint64_t published = 0;
    std::uint64_t store_errors = 0;
    std::uint64_t store_pending = 0;  // rows waiting for the next commit (queue depth)
    std::uint64_t spool_dropped = 0;  // ES documents refused by a full spool
    std::uint64_t spool_errors = 0;
    std::int64_t lag_ms = 0;          // receive time − end of the newest interval, last period
    std::uint64_t open_seconds = 0;   // seconds the aggregator holds
    bool es_enabled = false;
    EsSinkStats es;
};

// JSON text of the stats (the collector/<instance> topic and logs).
std::string stats_json(const CollectorStats& s, const std::string& instance);

class Collector {
public:
    // Opens the store and spool, binds the sockets and starts the threads. Throws
    // std::runtime_error on any failure (start-up only).
    Collector(const CollectorConfig& config, std::shared_ptr<spdlog::logger> logger);
    // "$TERM": drains, commits and stops.
    ~Collector();
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;

    // Bound endpoints with the actual port ("tcp://127.0.0.1:41234" for a ":0" or ":*" config).
    const std::string& endpoint() const;
    const std::string& publish_endpoint() const;  // "" when publishing is off

    void flush();
    CollectorStats stats() const;

    struct State;

private:
    std::unique_ptr<State> state_;
};

}  // namespace bts::collector
