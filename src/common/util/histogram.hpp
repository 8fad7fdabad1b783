// Log-linear latency histogram in microseconds (HDR-style): exact below 128 µs, then 128
// linear sub-buckets per power of two, so any recorded value is known to within 1/128 (< 0.8 %)
// and percentile() — which reports a bucket's midpoint — to within 0.4 %. The bucket layout is
// fixed, so histograms from different threads, beacons and seconds merge exactly by adding
// counts. Range 0 .. kMaxValue (10 min); larger values are clamped to kMaxValue and counted in
// overflow().
//
// Ownership follows wrk2: each thread owns its Histogram, records without locks or allocation,
// and histograms are merged only at report time. Not thread-safe.
//
// Wire form: to_sparse() gives the non-empty buckets as (index, count) pairs plus min/max/sum;
// bts::wire serializes it. Sparse data from the network is checked with
// SparseHistogram::validate() before it is merged.
#pragma once

#include "common/util/result.hpp"

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bts::util {

// A histogram as sent over the bus: only the non-empty buckets, in increasing index order.
struct SparseHistogram {
    std::uint64_t min = 0;       // exact smallest recorded value (0 when empty)
    std::uint64_t max = 0;       // exact largest recorded value, after clamping
    std::uint64_t sum = 0;       // sum of recorded values (for the mean), after clamping
    std::uint64_t overflow = 0;  // how many values exceeded Histogram::kMaxValue
    std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets;  // (index, count > 0)

    // Total count (sum of bucket counts; saturates at UINT64_MAX — validate() rejects that).
    std::uint64_t count() const;
    // Checks everything a receiver relies on: indices increasing and in range, counts non-zero
    // and not overflowing, min/max in the first/last bucket, sum between count*min and
    // count*max, overflow only with max == kMaxValue. nullopt when valid, else the reason.
    std::optional<std::string> validate() const;

    friend bool operator==(const SparseHistogram&, const SparseHistogram&) = default;
};

class Histogram {
  public:
    static constexpr std::uint64_t kMaxValue = 600'000'000;  // 10 min in µs
    static constexpr unsigned kSubBucketBits = 7;
    static constexpr std::uint64_t kSubBuckets = 1u << kSubBucketBits;  // 128 per power of two

    // Index of the bucket holding v (v <= kMaxValue). Values < 128 have their own bucket.
    static constexpr std::uint32_t bucket_index(std::uint64_t v) {
        if (v < kSubBuckets) return static_cast<std::uint32_t>(v);
        unsigned shift = static_cast<unsigned>(std::bit_width(v)) - 1 - kSubBucketBits;
        return static_cast<std::uint32_t>(kSubBuckets * (shift + 1) + ((v >> shift) - kSubBuckets));
    }
    // Smallest and largest value of bucket i (inclusive).
    static constexpr std::uint64_t bucket_lower(std::uint32_t i) {
        if (i < kSubBuckets) return i;
        unsigned shift = i / kSubBuckets - 1;
        return (kSubBuckets + i % kSubBuckets) << shift;
    }
    static constexpr std::uint64_t bucket_upper(std::uint32_t i) {
        if (i < kSubBuckets) return i;
        unsigned shift = i / kSubBuckets - 1;
        return bucket_lower(i) + (std::uint64_t{1} << shift) - 1;
    }
    // bucket_index(kMaxValue) + 1, spelled out because a class cannot call its own constexpr
    // functions in its member initializers (checked by the static_assert below the class).
    static constexpr std::uint32_t kBucketCount = static_cast<std::uint32_t>(
        kSubBuckets * (std::bit_width(kMaxValue) - kSubBucketBits) +
        (kMaxValue >> (std::bit_width(kMaxValue) - 1 - kSubBucketBits)) - kSubBuckets + 1);

    Histogram();

    // O(1), no allocation. Values above kMaxValue are recorded as kMaxValue and counted in
    // overflow(). `n` records the same value n times.
    void record(std::uint64_t value_us, std::uint64_t n = 1) {
        if (n == 0) return;
        if (value_us > kMaxValue) {
            value_us = kMaxValue;
            overflow_ += n;
        }
        counts_[bucket_index(value_us)] += n;
        if (count_ == 0 || value_us < min_) min_ = value_us;
        if (value_us > max_) max_ = value_us;
        count_ += n;
        sum_ += value_us * n;
    }

    std::uint64_t count() const { return count_; }
    std::uint64_t min() const { return min_; }  // 0 when empty
    std::uint64_t max() const { return max_; }  // 0 when empty
    std::uint64_t sum() const { return sum_; }
    std::uint64_t overflow() const { return overflow_; }
    double mean() const;  // 0 when empty
    // Value at percentile p in [0, 100] (p outside is clamped): the midpoint of the bucket
    // holding the ceil(p/100 * count)-th smallest value, clamped to [min, max] — so p=0 gives
    // min and p=100 gives max exactly. 0 when empty.
    std::uint64_t percentile(double p) const;
    // Count in bucket i (0 for i out of range).
    std::uint64_t bucket_count(std::uint32_t i) const { return i < kBucketCount ? counts_[i] : 0; }

    // Adds other's values: afterwards this equals a histogram that recorded both streams.
    void merge(const Histogram& other);
    // Same, from wire data. Precondition: sparse.validate() succeeded (indices out of range
    // are ignored rather than trusted, so a skipped check cannot corrupt memory).
    void merge(const SparseHistogram& sparse);
    void reset();

    SparseHistogram to_sparse() const;
    // Validates, then builds. Error text from SparseHistogram::validate().
    [[nodiscard]] static Result<Histogram> from_sparse(const SparseHistogram& sparse);

    friend bool operator==(const Histogram&, const Histogram&) = default;

  private:
    std::vector<std::uint64_t> counts_;  // kBucketCount entries, allocated once
    std::uint64_t count_ = 0;
    std::uint64_t min_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t overflow_ = 0;
};

static_assert(Histogram::kBucketCount == Histogram::bucket_index(Histogram::kMaxValue) + 1);
static_assert(Histogram::bucket_lower(Histogram::bucket_index(Histogram::kMaxValue)) <=
              Histogram::kMaxValue);

}  // namespace bts::util
