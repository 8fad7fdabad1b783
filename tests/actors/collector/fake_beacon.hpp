// Test helper: a fake beacon that PUSHes deterministic wire::StatsInterval messages over a real
// ZeroMQ socket, keeps its own totals (the ground truth a test compares the stores with), and
// optionally re-sends each interval once more `resend_after` intervals later — the resend
// window that docs/collector.md asks of beacons so a collector restart loses nothing.
#pragma once

#include "common/util/histogram.hpp"
#include "common/wire.hpp"

#include <czmq.h>

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

namespace bts::test {

struct BeaconTotals {
    std::uint64_t intervals = 0;
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;
    std::uint64_t rejected = 0;
    std::uint64_t included_txs = 0;
    std::uint64_t included_ops = 0;
    std::uint64_t acceptance_count = 0;
    std::map<std::string, std::uint64_t> rejected_by_class;
};

// A deterministic interval: same (beacon, seq, seed) → same message.
inline wire::StatsInterval make_interval(const std::string& run, const std::string& beacon, std::uint64_t seq,
                                         std::int64_t start_ms, std::uint64_t interval_ms, std::uint64_t seed) {
    std::mt19937_64 rng(seed * 1000003u + seq);
    wire::StatsInterval s;
    s.run_id = run;
    s.beacon_id = beacon;
    s.host = "host-" + beacon;
    s.seq = seq;
    s.interval_start_ms = start_ms;
    s.interval_ms = interval_ms;
    s.configured_rate = 100.0;
    s.sent = 50 + rng() % 100;
    std::uint64_t rejected = rng() % 5;
    s.accepted = s.sent - rejected;
    if (rejected > 0) s.rejected_by_class["insufficient_fee"] = rejected - rejected / 2;
    if (rejected / 2 > 0) s.rejected_by_class["duplicate_tx"] = rejected / 2;
    s.included_txs = s.accepted;
    s.included_ops = s.accepted * 2;
    s.late_sends = rng() % 3;
    s.max_send_lag_us = rng() % 5000;
    util::Histogram acc, send, incl;
    for (std::uint64_t i = 0; i < s.accepted; ++i) {
        std::uint64_t v = 500 + rng() % 20000;
        acc.record(v);
        send.record(v / 2);
        incl.record(v * 50 + rng() % 1000000);
    }
    s.acceptance_from_intended = acc.to_sparse();
    s.acceptance_from_send = send.to_sparse();
    s.inclusion = incl.to_sparse();
    s.host_cpu_pct = 12.5;
    s.proc_cpu_pct = 30.0 + static_cast<double>(rng() % 100) / 10.0;
    s.rss_bytes = 50u << 20;
    return s;
}

class FakeBeacon {
public:
    FakeBeacon(const std::string& endpoint, std::string run, std::string beacon, std::uint64_t seed,
               std::uint64_t resend_after = 0, std::uint64_t interval_ms = 1000)
        : run_(std::move(run)), beacon_(std::move(beacon)), seed_(seed), resend_after_(resend_after),
          interval_ms_(interval_ms) {
        sock_ = zsock_new(ZMQ_PUSH);
        if (!sock_) throw std::runtime_error("zsock_new failed");
        zsock_set_sndhwm(sock_, 100000);
        zsock_set_linger(sock_, 2000);
        if (zsock_connect(sock_, "%s", endpoint.c_str()) != 0)
            throw std::runtime_error("cannot connect to " + endpoint);
    }
    ~FakeBeacon() { zsock_destroy(&sock_); }
    FakeBeacon(const FakeBeacon&) = delete;
    FakeBeacon& operator=(const FakeBeacon&) = delete;

    zsock_t* socket() { return sock_; }

    // Sends interval `next seq` starting at start_ms (and the resend of an older one).
    void send_next(std::int64_t start_ms, bool final = false) {
        wire::StatsInterval s = make_interval(run_, beacon_, seq_, start_ms, interval_ms_, seed_);
        s.final = final;
        std::string frame = wire::encode(s);
        send_frame(frame);
        account(s);
        if (resend_after_ > 0) {
            window_.push_back(frame);
            if (window_.size() > resend_after_) {
                send_frame(window_.front());
                window_.pop_front();
            }
        }
        ++seq_;
    }
    // Re-sends everything still in the window (at the end of a run).
    void flush_window() {
        while (!window_.empty()) {
            send_frame(window_.front());
            window_.pop_front();
        }
    }
    void send_frame(const std::string& frame) {
        zmq_send(zsock_resolve(sock_), frame.data(), frame.size(), 0);
    }

    const BeaconTotals& totals() const { return totals_; }
    std::uint64_t next_seq() const { return seq_; }
    const std::string& id() const { return beacon_; }

private:
    void account(const wire::StatsInterval& s) {
        ++totals_.intervals;
        totals_.sent += s.sent;
        totals_.accepted += s.accepted;
        for (const auto& [k, n] : s.rejected_by_class) {
            totals_.rejected += n;
            totals_.rejected_by_class[k] += n;
        }
        totals_.included_txs += s.included_txs;
        totals_.included_ops += s.included_ops;
        totals_.acceptance_count += s.acceptance_from_intended.count();
    }

    std::string run_, beacon_;
    std::uint64_t seed_;
    std::uint64_t resend_after_;
    std::uint64_t interval_ms_;
    std::uint64_t seq_ = 0;
    zsock_t* sock_ = nullptr;
    std::deque<std::string> window_;
    BeaconTotals totals_;
};

}  // namespace bts::test
