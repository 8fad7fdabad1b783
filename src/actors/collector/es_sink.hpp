// The Elasticsearch sink: a thread that ships the spool to Elasticsearch with _bulk, in order.
//
//   at start   installs the index templates (PUT _index_template/<index>), retrying until done
//   batches    up to bulk_max_docs / bulk_max_bytes, or what is there once the oldest waiting
//              item is flush_interval old (Filebeat's queue.mem.flush.* semantics)
//   responses  per item: 200/201 stored; 409 already stored (a replay; create action, or an
//              older totals revision); 429 and 5xx retried (only those items) after a jittered
//              exponential backoff; 400 and other 4xx written to the dead-letter file with the
//              reason. Whole-request failures (connection refused, timeout, 429, 5xx, 401/403)
//              retry the request with the same backoff; the spool keeps filling meanwhile.
//   cursor     the spool cursor moves past a batch only when every item in it is resolved,
//              so a restart replays at most the unresolved batch (stored once: 409).
//
// Authentication: basic (username + password) or an API key ("Authorization: ApiKey ...").
// Secrets are read once at start-up and never logged. Only the sink's .cpp sees Asio/Beast
// (through bts::net::HttpClient).
#pragma once

#include "actors/collector/config.hpp"
#include "actors/collector/spool.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace spdlog {
class logger;
}

namespace bts::collector {

struct EsSinkStats {
    std::uint64_t stored = 0;        // items answered 200/201
    std::uint64_t duplicates = 0;    // items answered 409 (already stored)
    std::uint64_t item_retries = 0;  // items resent after 429/5xx
    std::uint64_t dead_letters = 0;  // items written to the dead-letter file
    std::uint64_t requests = 0;      // _bulk requests sent
    std::uint64_t request_failures = 0;  // _bulk requests without a usable response
    std::uint64_t spool_bytes = 0;   // unshipped
    std::uint64_t spool_items = 0;
    std::int64_t lag_ms = 0;         // how long the oldest unshipped item has waited (about)
    bool available = false;          // last request got a usable response
    bool templates_installed = false;
};

class EsSink {
public:
    // Reads secret files; throws std::runtime_error at start-up (unreadable file, bad URL).
    EsSink(const EsConfig& config, Spool& spool, std::shared_ptr<spdlog::logger> logger);
    ~EsSink();  // stop()
    EsSink(const EsSink&) = delete;
    EsSink& operator=(const EsSink&) = delete;

    void start();
    // Stops after the request in flight (which is abandoned; it is replayed next time).
    void stop();
    EsSinkStats stats() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
    std::thread thread_;
};

// "Basic <base64(user:password)>" or "ApiKey <base64(id:key)>" (an api_key without ':' is
// taken as already encoded); "" when no credentials are configured. Throws on unreadable files.
std::string es_authorization(const EsConfig& config);

}  // namespace bts::collector
