// bts-report's model: a finished run read from the embedded store (docs/store-schema.md), and
// its rendering as Markdown or plain text.
#pragma once

#include "common/util/histogram.hpp"
#include "common/wire.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bts::report {

struct BeaconSummary {
    std::string beacon_id, host;
    std::uint64_t intervals = 0, first_seq = 0, last_seq = 0, missing = 0;
    std::uint64_t sent = 0, accepted = 0, rejected = 0, included_txs = 0, included_ops = 0;
    std::uint64_t late_sends = 0, dropped_sends = 0, timeouts = 0, disconnects = 0, connect_failures = 0;
    std::int64_t first_ms = 0, last_ms = 0;
    double configured_rate = 0, max_proc_cpu = 0, max_host_cpu = 0;
    bool final = false;
    util::Histogram acceptance, inclusion;
};

struct SecondRow {
    std::int64_t second_unix = 0;
    std::uint64_t beacons = 0, sent = 0, accepted = 0, rejected = 0, included_ops = 0;
    double configured_rate = 0;
    std::uint64_t acc_p50 = 0, acc_p99 = 0, incl_p99 = 0;
};

struct UptimeSummary {
    std::string endpoint;
    std::uint64_t checks = 0, up = 0;
    std::map<std::string, std::uint64_t> by_status;
    util::Histogram duration;
};

struct Run {
    std::string run_id;
    std::int64_t first_ms = 0, last_ms = 0;
    std::uint64_t intervals = 0;
    std::map<std::string, BeaconSummary> beacons;
    wire::ClassCounts rejected_by_class;
    util::Histogram acceptance, acceptance_from_send, inclusion;
    std::vector<SecondRow> seconds;
    std::vector<wire::RunEvent> events;
    std::vector<UptimeSummary> uptime;
    std::uint64_t undecodable_frames = 0;

    std::uint64_t sent() const;
    std::uint64_t accepted() const;
    std::uint64_t rejected() const;
};

struct RunListEntry {
    std::string run_id;
    std::int64_t first_ms = 0, last_ms = 0;
    std::uint64_t intervals = 0, beacons = 0, events = 0;
};

// Opens the store read-only. Throws std::runtime_error (missing file, not a bts store, ...).
class StoreReader {
public:
    explicit StoreReader(const std::string& path);
    ~StoreReader();
    StoreReader(const StoreReader&) = delete;
    StoreReader& operator=(const StoreReader&) = delete;

    std::vector<RunListEntry> runs();  // newest first
    // Throws std::runtime_error if the run is unknown.
    Run load(const std::string& run_id);

private:
    struct Impl;
    Impl* impl_;
};

struct RenderOptions {
    bool markdown = true;
    bool per_second = true;
    std::size_t max_seconds = 0;  // 0 = every second
};

std::string render(const Run& run, const RenderOptions& options);
std::string render_list(const std::vector<RunListEntry>& runs, bool markdown);

}  // namespace bts::report
