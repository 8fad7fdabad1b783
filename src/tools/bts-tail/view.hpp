// bts-tail's live table: keeps the latest interval per beacon, the latest cluster totals, recent
// events and the collector's self-report, and renders them to fit a terminal width.
#pragma once

#include "common/wire.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bts::tail {

struct Filter {
    std::string run;                  // "" = any (the table shows the most recent run)
    std::string beacon;               // "" = any
    std::vector<std::string> topics;  // topic prefixes; empty = all
    // True when a message on `topic` passes (topic = kind/run[/beacon]).
    bool accepts(const std::string& topic) const;
};

class TailView {
public:
    // `payload` is a wire frame, or JSON for collector/… topics. False when it was not usable.
    bool on_message(const std::string& topic, const std::string& payload, std::int64_t now_ms);
    // The screen: lines no wider than `width` columns, at most `height` lines (0 = no limit).
    std::vector<std::string> render(std::size_t width, std::size_t height, std::int64_t now_ms) const;

    std::uint64_t messages() const { return messages_; }

private:
    struct BeaconRow {
        wire::StatsInterval last;
        std::int64_t seen_ms = 0;
    };
    std::string run_;  // the run shown
    std::int64_t run_seen_ms_ = 0;
    std::map<std::string, std::map<std::string, BeaconRow>> beacons_;  // run → beacon → row
    std::map<std::string, wire::ClusterTotals> totals_;                // run → latest second
    std::deque<wire::RunEvent> events_;
    std::string collector_json_;
    std::uint64_t messages_ = 0;
    std::string pinned_run_;

public:
    void pin_run(std::string run) { pinned_run_ = std::move(run); }
};

// "850us", "12.3ms", "1.25s".
std::string format_latency_us(std::uint64_t us);

}  // namespace bts::tail
