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
    auto it = b.beacons.find(std::string_view(m.beacon_id));
    if (it == b.beacons.end()) it = b.beacons.emplace(m.beacon_id, BeaconPart{}).first;
    auto& seqs = it->second.seqs;
    if (std::find(seqs.begin(), seqs.end(), m.seq) != seqs.end()) return;
    seqs.push_back(m.seq);
    it->second.rate = m.configured_rate;
    auto& t = b.totals;
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
    auto r = buckets_.find(std::string_view(run));
    if (r == buckets_.end()) r = buckets_.emplace(run, std::map<std::int64_t, Bucket>{}).first;
    auto it = r->second.find(second);
    created = it == r->second.end();
    if (!created) return it->second;
    if (open_ >= max_open_) {
        // Bounded memory: the oldest second of the largest run goes (its last revision was
        // emitted unless it is dirty; then it is lost, which only a flood of runs can cause).
        auto biggest = std::max_element(buckets_.begin(), buckets_.end(),
                                        [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
        if (!biggest->second.empty()) {
            biggest->second.erase(biggest->second.begin());
            --open_;
        }
    }
    Bucket& b = r->second.emplace(second, Bucket{}).first->second;
    ++open_;
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
    auto r = buckets_.find(std::string_view(run));
    if (r != buckets_.end() && r->second.erase(second)) --open_;
    bool created = false;
    Bucket& b = open(run, second, created);
    b.dirty = b.intervals > 0;
    if (b.intervals == 1) ++rebuilt_;  // open() counts only seconds of more than one interval
}

Aggregator::Emitted Aggregator::emit(Bucket& b) {
    auto& t = b.totals;
    t.beacons = static_cast<std::uint32_t>(b.beacons.size());
    double rate = 0.0;
    bool unlimited = false;
    for (const auto& [id, part] : b.beacons) {
        if (part.rate <= 0.0) unlimited = true;
        rate += part.rate;
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
    for (auto r = buckets_.begin(); r != buckets_.end();) {
        auto& seconds = r->second;
        for (auto it = seconds.begin(); it != seconds.end();) {
            const std::int64_t end_ms = (it->first + 1) * 1000;
            if (end_ms + delay_.count() > now_ms) break;  // later seconds are not due either
            if (it->second.dirty) out.push_back(emit(it->second));
            if (now_ms >= end_ms + linger_.count()) {
                it = seconds.erase(it);
                --open_;
            } else {
                ++it;
            }
        }
        r = seconds.empty() ? buckets_.erase(r) : std::next(r);
    }
    return out;
}

std::vector<Aggregator::Emitted> Aggregator::flush() {
    std::vector<Emitted> out;
    for (auto& [run, seconds] : buckets_)
        for (auto& [second, b] : seconds)
            if (b.dirty) out.push_back(emit(b));
    return out;
}

}  // namespace bts::collector
