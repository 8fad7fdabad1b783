// Pacer: wrk2-style open-loop schedule. Send n is meant to leave at t0 + n / rate, whatever
// happened to earlier sends; a sender that wakes late sends everything that is due at once
// (catching up) and records how late each send was, so slow replies or a slow beacon show up
// as latency measured from the intended time instead of silently lowering the rate
// (no coordinated omission). Unlimited mode has no schedule: every send is "due".
//
// Pure arithmetic on a steady-clock time line in nanoseconds; the caller supplies `now`, so
// tests drive it with a fake clock.
#pragma once

#include "common/util/histogram.hpp"
#include "common/util/units.hpp"

#include <cstdint>

namespace bts::beacon {

class Pacer {
public:
    // rate.per_second == 0: unlimited. t0_ns: intended time of send 0 (steady clock, ns).
    Pacer(util::Rate rate, std::int64_t t0_ns, std::int64_t late_threshold_ns);

    [[nodiscard]] bool unlimited() const { return rate_ <= 0; }
    [[nodiscard]] double rate() const { return rate_; }
    [[nodiscard]] std::int64_t t0() const { return t0_; }
    // The first t0, before any rebase(): when the run started sending.
    [[nodiscard]] std::int64_t start() const { return start_; }

    // Intended send time of send n (t0 for every n when unlimited).
    [[nodiscard]] std::int64_t intended(std::uint64_t n) const;
    // How many sends are due at `now`: the number of n with intended(n) <= now.
    // Unlimited: UINT64_MAX.
    [[nodiscard]] std::uint64_t due(std::int64_t now) const;
    // How many sends fall before `end` (intended(n) < end): the size of a run of given length.
    [[nodiscard]] std::uint64_t count_before(std::int64_t end) const;

    // A new rate from t0_ns on (a broker rate change): send n is now meant for t0 + n / rate.
    // Lag statistics are kept.
    void rebase(util::Rate rate, std::int64_t t0_ns) {
        rate_ = rate.is_unlimited() ? 0.0 : rate.per_second;
        t0_ = t0_ns;
    }

    // Bookkeeping of one send at `now` that was meant for `intended_ns`: returns the lag (>= 0)
    // and records it (histogram in µs, late count, worst lag).
    std::int64_t record_send(std::int64_t intended_ns, std::int64_t now);
    // A due send that was not made (every connection's window was full, or none was up).
    void record_drop() { ++dropped_; }

    [[nodiscard]] const util::Histogram& lag_histogram() const { return lag_us_; }
    [[nodiscard]] std::uint64_t late() const { return late_; }
    [[nodiscard]] std::uint64_t dropped() const { return dropped_; }
    [[nodiscard]] std::int64_t max_lag_ns() const { return max_lag_; }

private:
    double rate_;
    std::int64_t t0_;
    std::int64_t start_;
    std::int64_t late_threshold_;
    util::Histogram lag_us_;
    std::uint64_t late_ = 0;
    std::uint64_t dropped_ = 0;
    std::int64_t max_lag_ = 0;
};

}  // namespace bts::beacon
