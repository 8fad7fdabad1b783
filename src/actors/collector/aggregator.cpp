// Merging intervals into per-second cluster totals.
#include "actors/collector/aggregator.hpp"

#include <algorithm>

namespace bts::collector {
namespace {
std::int64_t second_of(std::int64_t ms) { return ms >= 0 ? ms / 1000 : (ms - 999) / 1000; }
}  // namespace

Aggregator::Aggregator(std::chrono::milliseconds delay, std::chrono::milliseconds linger, Loader loader,
                       std::size_t max_open_seconds)
    : delay_(delay), linger_(std::max(linger, delay)), loader_(std::move(loader)), max_open_(max_open_seconds) {}

void Aggregator::merge(Bucket& b, const wire::StatsInterval& m) {
    // The store makes intervals unique, but a rebuilt second may meet an interval that was
    // also passed to add(): merge each (beacon, seq) once.
    if (!b.seen.emplace(m.beacon_id, m.seq).second) return;
    auto& t = b.totals;
    b.beacon_rates[m.beacon_id] = m.configured_rate;
    t.sent += m.sent;
    t.accepted += m.accepted;
    for (const auto& [k, n] : m.rejected_by_class) t.rejected_by_class[k] += n;
    t.included_txs += m.included_txs;
    t.included_ops += m.included_ops;
    b.acceptance.merge(m.acceptance_from_intended);
    b.inclusion.merge(m.inclusion);
    ++b.intervals;
    b.dirty = true;
}

Aggregator::Bucket& Aggregator::open(const std::string& run, std::int64_t second, bool& created) {
    Key key{run, second};
    auto it = buckets_.find(key);
    created = it == buckets_.end();
    if (!created) return it->second;
    if (buckets_.size() >= max_open_) {
        // Bounded memory: the oldest second goes (its last revision was already emitted
        // unless it is dirty, in which case the next due() would have emitted it).
        buckets_.erase(buckets_.begin());
    }
    Bucket& b = buckets_.emplace(key, Bucket{}).first->second;
    b.totals.run_id = run;
    b.totals.second_unix = second;
    if (loader_) {
        auto frames = loader_(run, second * 1000, second * 1000 + 1000);
        if (frames.size() > 1) ++rebuilt_;
        for (const auto& f : frames) {
            auto msg = wire::decode(f);
            if (!msg) continue;  // stored frames were valid when stored
            if (auto* s = std::get_if<wire::StatsInterval>(&*msg)) merge(b, *s);
        }
    }
    return b;
}

void Aggregator::add(const wire::StatsInterval& m) {
    bool created = false;
    merge(open(m.run_id, second_of(m.interval_start_ms), created), m);
}

void Aggregator::rebuild(const std::string& run, std::int64_t second) {
    if (!loader_) return;
    buckets_.erase(Key{run, second});
    bool created = false;
    Bucket& b = open(run, second, created);
    b.dirty = b.intervals > 0;
    if (b.intervals == 1) ++rebuilt_;  // open() counts only seconds of more than one interval
}

Aggregator::Emitted Aggregator::emit(Bucket& b) {
    auto& t = b.totals;
    t.beacons = static_cast<std::uint32_t>(b.beacon_rates.size());
    double rate = 0.0;
    bool unlimited = false;
    for (const auto& [id, r] : b.beacon_rates) {
        if (r <= 0.0) unlimited = true;
        rate += r;
    }
    t.configured_rate = unlimited ? 0.0 : rate;
    t.acceptance_p50_us = b.acceptance.percentile(50);
    t.acceptance_p90_us = b.acceptance.percentile(90);
    t.acceptance_p99_us = b.acceptance.percentile(99);
    t.acceptance_max_us = b.acceptance.max();
    t.inclusion_p50_us = b.inclusion.percentile(50);
    t.inclusion_p99_us = b.inclusion.percentile(99);
    b.dirty = false;
    return Emitted{t, b.intervals};
}

std::vector<Aggregator::Emitted> Aggregator::due(std::int64_t now_ms) {
    std::vector<Emitted> out;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        const std::int64_t end_ms = (it->first.second + 1) * 1000;
        if (it->second.dirty && now_ms >= end_ms + delay_.count()) out.push_back(emit(it->second));
        if (now_ms >= end_ms + linger_.count() && !it->second.dirty)
            it = buckets_.erase(it);
        else
            ++it;
    }
    return out;
}

std::vector<Aggregator::Emitted> Aggregator::flush() {
    std::vector<Emitted> out;
    for (auto& [key, b] : buckets_)
        if (b.dirty) out.push_back(emit(b));
    return out;
}

}  // namespace bts::collector
