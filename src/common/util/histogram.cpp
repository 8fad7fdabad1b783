// Log-linear latency histogram: percentiles, merging and the sparse wire form.
#include "common/util/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bts::util {

std::uint64_t SparseHistogram::count() const {
    std::uint64_t total = 0;
    for (const auto& [index, n] : buckets) {
        if (__builtin_add_overflow(total, n, &total))
            return std::numeric_limits<std::uint64_t>::max();
    }
    return total;
}

std::optional<std::string> SparseHistogram::validate() const {
    constexpr std::uint64_t kMax = Histogram::kMaxValue;
    if (buckets.empty()) {
        if (min != 0 || max != 0 || sum != 0 || overflow != 0)
            return "empty histogram with non-zero min/max/sum/overflow";
        return std::nullopt;
    }
    if (buckets.size() > Histogram::kBucketCount) return "more buckets than the layout has";
    std::uint64_t total = 0;
    std::int64_t previous = -1;
    for (const auto& [index, n] : buckets) {
        if (index >= Histogram::kBucketCount)
            return "bucket index " + std::to_string(index) + " out of range";
        if (static_cast<std::int64_t>(index) <= previous) return "bucket indices not increasing";
        if (n == 0) return "bucket " + std::to_string(index) + " has count 0";
        if (__builtin_add_overflow(total, n, &total)) return "total count overflows";
        previous = index;
    }
    if (min > max) return "min > max";
    if (max > kMax) return "max above the histogram range";
    if (Histogram::bucket_index(min) != buckets.front().first)
        return "min is not in the first non-empty bucket";
    if (Histogram::bucket_index(max) != buckets.back().first)
        return "max is not in the last non-empty bucket";
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    bool lo_overflows = __builtin_mul_overflow(min, total, &lo);
    bool hi_overflows = __builtin_mul_overflow(max, total, &hi);
    if (lo_overflows || sum < lo) return "sum below count * min";
    if (!hi_overflows && sum > hi) return "sum above count * max";
    if (overflow > total) return "overflow count above total count";
    if (overflow > 0 && max != kMax) return "overflow counted but max below the range limit";
    return std::nullopt;
}

Histogram::Histogram() : counts_(kBucketCount, 0) {}

double Histogram::mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

std::uint64_t Histogram::percentile(double p) const {
    if (count_ == 0) return 0;
    if (!(p >= 0.0)) p = 0.0;  // also NaN
    if (p > 100.0) p = 100.0;
    // Rank of the wanted value, 1-based, as a sorted-array oracle would pick it.
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::uint32_t i = bucket_index(min_); i < kBucketCount; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            std::uint64_t lo = bucket_lower(i);
            std::uint64_t mid = lo + (bucket_upper(i) - lo) / 2;
            return std::clamp(mid, min_, max_);
        }
    }
    return max_;  // unreachable while counts_ and count_ agree
}

void Histogram::merge(const Histogram& other) {
    if (other.count_ == 0) return;
    for (std::uint32_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
    min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    count_ += other.count_;
    sum_ += other.sum_;
    overflow_ += other.overflow_;
}

void Histogram::merge(const SparseHistogram& sparse) {
    std::uint64_t added = 0;
    for (const auto& [index, n] : sparse.buckets) {
        if (index >= kBucketCount) continue;
        counts_[index] += n;
        added += n;
    }
    if (added == 0) return;
    min_ = count_ == 0 ? sparse.min : std::min(min_, sparse.min);
    max_ = std::max(max_, std::min(sparse.max, kMaxValue));
    count_ += added;
    sum_ += sparse.sum;
    overflow_ += sparse.overflow;
}

void Histogram::reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = min_ = max_ = sum_ = overflow_ = 0;
}

SparseHistogram Histogram::to_sparse() const {
    SparseHistogram s;
    s.min = min_;
    s.max = max_;
    s.sum = sum_;
    s.overflow = overflow_;
    if (count_ == 0) return s;
    for (std::uint32_t i = bucket_index(min_); i <= bucket_index(max_); ++i) {
        if (counts_[i] != 0) s.buckets.emplace_back(i, counts_[i]);
    }
    return s;
}

Result<Histogram> Histogram::from_sparse(const SparseHistogram& sparse) {
    if (auto err = sparse.validate()) return Error{"histogram: " + *err};
    Histogram h;
    h.merge(sparse);
    return h;
}

}  // namespace bts::util
