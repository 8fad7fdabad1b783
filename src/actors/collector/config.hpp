// bts-collector configuration: sockets, CURVE, embedded store, Elasticsearch sink and spool.
// Defaults live here and are commented in config/collector.toml.
#pragma once

#include "common/util/config.hpp"
#include "common/util/units.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace bts::collector {

// CURVE for one bound socket, in the broker's format (src/common/control/curve.hpp): a zcert
// secret-certificate file for the server and a directory of client public certificates (the
// zauth allow-list).
struct CurveConfig {
    std::string secret_cert;      // "" = no CURVE on this socket
    std::string allowed_clients;  // directory of allowed clients' public certificates (NAME.key)
    bool insecure = false;        // allow plain TCP on a non-loopback endpoint anyway

    bool enabled() const { return !secret_cert.empty(); }
};

// The embedded SQLite store (docs/store-schema.md).
struct StoreConfig {
    bool enabled = true;
    std::string path = "bts-collector.sqlite";
    // Rows are committed in one transaction per interval (or when commit_rows are pending):
    // one fsync-free WAL commit per batch instead of per message.
    util::Duration commit_interval = std::chrono::milliseconds(200);
    std::uint64_t commit_rows = 20000;
};

// Elasticsearch / OpenSearch sink (docs/collector.md). Secrets (password, api_key) are read
// from files or the config; they are never logged.
struct EsConfig {
    bool enabled = false;
    std::string url = "http://127.0.0.1:9200";  // base URL, no trailing path
    std::string username;
    std::string password;       // basic auth with username
    std::string password_file;  // alternative to password: first line of this file
    std::string api_key;        // "id:key" or the base64 form; sent as "ApiKey <base64>"
    std::string api_key_file;
    std::string index_prefix = "bts";  // indices <prefix>-intervals, -totals, -events, -uptime
    bool install_templates = true;
    bool tls_verify = true;
    std::string ca_file;
    // Batches close at whichever comes first (Filebeat's defaults: 1600 docs, 1 s).
    std::uint64_t bulk_max_docs = 1600;
    std::uint64_t bulk_max_bytes = 10ull * 1024 * 1024;
    util::Duration flush_interval = std::chrono::seconds(1);
    util::Duration request_timeout = std::chrono::seconds(30);
    // Retries (whole request or single items): uniform in [d/2, d], d = min(max, init * 2^n).
    util::Duration backoff_init = std::chrono::seconds(1);
    util::Duration backoff_max = std::chrono::seconds(60);
    // The durable queue in front of Elasticsearch (every document passes through it).
    std::string spool_dir = "bts-collector-spool";
    std::uint64_t spool_max_bytes = 1ull << 30;
    std::uint64_t spool_segment_bytes = 64ull << 20;
    util::Duration spool_sync_interval = std::chrono::seconds(1);  // fdatasync period
    std::string dead_letter_file = "bts-collector-dead-letter.ndjson";
};

struct CollectorConfig {
    std::string instance = "collector";          // name in self-reports and topics
    std::string listen = "tcp://127.0.0.1:5601";  // PULL: beacons, bts-uptime, others PUSH here
    std::string publish = "tcp://127.0.0.1:5602"; // PUB: live stream; "" = off
    CurveConfig curve;          // for `listen`
    CurveConfig publish_curve;  // for `publish`
    std::uint64_t receive_hwm = 100000;
    // A second's cluster totals are emitted totals_delay after it ends and revised for late
    // intervals until totals_linger after it ends (then rebuilt from the store if needed).
    util::Duration totals_delay = std::chrono::seconds(2);
    util::Duration totals_linger = std::chrono::seconds(30);
    util::Duration stats_interval = std::chrono::seconds(10);  // self-report period
    util::Duration drain_on_stop = std::chrono::milliseconds(300);  // read until idle this long
    StoreConfig store;
    EsConfig es;

    static CollectorConfig from_toml(const util::TomlDoc& doc);
    void validate() const;
};

}  // namespace bts::collector
