// Pacer: intended-time arithmetic and send-lag bookkeeping.
#include "actors/beacon/pacer.hpp"

#include <cmath>
#include <limits>

namespace bts::beacon {

Pacer::Pacer(util::Rate rate, std::int64_t t0_ns, std::int64_t late_threshold_ns)
    : rate_(rate.is_unlimited() ? 0.0 : rate.per_second),
      t0_(t0_ns),
      start_(t0_ns),
      late_threshold_(late_threshold_ns) {}

std::int64_t Pacer::intended(std::uint64_t n) const {
    if (unlimited()) return t0_;
    // long double keeps n * 1e9 exact well past 2^53 ns (months at any rate).
    auto offset = static_cast<long double>(n) * 1e9L / static_cast<long double>(rate_);
    return t0_ + static_cast<std::int64_t>(std::floor(offset));
}

std::uint64_t Pacer::due(std::int64_t now) const {
    if (unlimited()) return std::numeric_limits<std::uint64_t>::max();
    if (now < t0_) return 0;
    auto est = static_cast<std::uint64_t>(
        std::floor(static_cast<long double>(now - t0_) * static_cast<long double>(rate_) / 1e9L)) + 1;
    // Make due() agree exactly with intended(): both round, in different directions.
    while (est > 0 && intended(est - 1) > now) --est;
    while (intended(est) <= now) ++est;
    return est;
}

std::uint64_t Pacer::count_before(std::int64_t end) const {
    if (unlimited()) return std::numeric_limits<std::uint64_t>::max();
    if (end <= t0_) return 0;
    std::uint64_t n = due(end - 1);  // intended(n) <= end - 1  <=>  intended(n) < end
    return n;
}

std::int64_t Pacer::record_send(std::int64_t intended_ns, std::int64_t now) {
    std::int64_t lag = now > intended_ns ? now - intended_ns : 0;
    lag_us_.record(static_cast<std::uint64_t>(lag / 1000));
    if (lag > late_threshold_) ++late_;
    if (lag > max_lag_) max_lag_ = lag;
    return lag;
}

}  // namespace bts::beacon
