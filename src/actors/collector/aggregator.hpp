// Per-second cluster totals: every beacon's intervals of one run merged by second (counts
// summed, latency histograms merged exactly, percentiles from the merged histogram).
//
// An interval belongs to the second floor(interval_start_ms / 1000). A second is emitted
// `delay` after it ends (beacons report once per second, so by then every beacon has spoken),
// and emitted again whenever a late interval revises it until `linger` after it ends. After
// that its state is dropped; an interval arriving later still (a resend after a collector
// restart) makes the second be rebuilt from the store through the Loader, so stored totals are
// always over every stored interval. Each emission carries a version — the number of intervals
// merged — which only grows, so sinks can refuse an older revision replayed after a newer one.
//
// Not thread-safe: owned by the collector thread.
#pragma once

#include "common/wire.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bts::collector {

class Aggregator {
public:
    // Stored wire frames of `run`'s intervals starting in [from_ms, to_ms).
    using Loader = std::function<std::vector<std::string>(const std::string& run, std::int64_t from_ms,
                                                          std::int64_t to_ms)>;

    struct Emitted {
        wire::ClusterTotals totals;
        std::uint64_t version = 0;  // intervals merged
    };

    // Without a loader a second that was dropped restarts empty (its totals then only cover
    // the late intervals, at a lower version).
    Aggregator(std::chrono::milliseconds delay, std::chrono::milliseconds linger, Loader loader = {},
               std::size_t max_open_seconds = 100'000);

    // Adds a newly stored interval. With a loader, call it after the interval is in the store.
    void add(const wire::StatsInterval& m);
    // Rebuilds (run, second) from the loader and marks it changed, so due() emits it: totals a
    // crashed collector had not written. No-op without a loader.
    void rebuild(const std::string& run, std::int64_t second);
    // Seconds to emit now (closed and changed since last emitted); drops expired seconds.
    std::vector<Emitted> due(std::int64_t now_ms);
    // Everything changed, regardless of time (shutdown, tests).
    std::vector<Emitted> flush();

    std::size_t open_seconds() const { return open_; }
    std::uint64_t rebuilt_seconds() const { return rebuilt_; }

private:
    struct BeaconPart {
        double rate = 0.0;                // configured rate
        std::vector<std::uint64_t> seqs;  // intervals merged (a few per second)
    };
    struct Bucket {
        std::map<std::string, BeaconPart, std::less<>> beacons;
        wire::ClusterTotals totals;
        util::Histogram acceptance;
        util::Histogram inclusion;
        std::uint64_t intervals = 0;
        bool dirty = false;
    };

    void merge(Bucket& b, const wire::StatsInterval& m);
    Bucket& open(const std::string& run, std::int64_t second, bool& created);
    Emitted emit(Bucket& b);

    std::chrono::milliseconds delay_;
    std::chrono::milliseconds linger_;
    Loader loader_;
    std::size_t max_open_;
    // run → second → bucket; lookups by string_view allocate nothing.
    std::map<std::string, std::map<std::int64_t, Bucket>, std::less<>> buckets_;
    std::size_t open_ = 0;
    std::uint64_t rebuilt_ = 0;
};

}  // namespace bts::collector
