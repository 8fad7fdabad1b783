// Tests for the log-linear latency histogram (src/common/util/histogram.hpp): accuracy against
// a sorted-vector oracle, exact merging, the sparse wire form and clamping.
#include "common/util/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>

// Counts heap allocations so the test can show record() makes none. Test-only replacement of
// the global operator new (the test binary is the only user). GCC 12 warns about malloc/free in
// replaced operators once they are inlined into std::allocator: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<std::uint64_t> allocations{0};
}
void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace bts::util {
namespace {

// The value a sorted array gives for percentile p (the ceil(p/100*n)-th smallest).
std::uint64_t oracle(const std::vector<std::uint64_t>& sorted, double p) {
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

void expect_within_1pct(const std::vector<std::uint64_t>& values, const char* what) {
    Histogram h;
    for (auto v : values) h.record(v);
    std::vector<std::uint64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    for (double p : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        double expected = static_cast<double>(oracle(sorted, p));
        double got = static_cast<double>(h.percentile(p));
        EXPECT_LE(std::abs(got - expected), 0.01 * expected)
            << what << " p" << p << ": got " << got << ", oracle " << expected;
    }
    EXPECT_EQ(h.min(), sorted.front());
    EXPECT_EQ(h.max(), sorted.back());
    EXPECT_EQ(h.count(), values.size());
    double sum = 0;
    for (auto v : values) sum += static_cast<double>(v);
    EXPECT_NEAR(h.mean(), sum / static_cast<double>(values.size()), 1e-6 * h.mean());
}

TEST(HistogramLayout, BucketsAreContiguousAndNarrow) {
    EXPECT_EQ(Histogram::bucket_lower(0), 0u);
    for (std::uint32_t i = 0; i + 1 < Histogram::kBucketCount; ++i) {
        ASSERT_EQ(Histogram::bucket_upper(i) + 1, Histogram::bucket_lower(i + 1)) << i;
        ASSERT_EQ(Histogram::bucket_index(Histogram::bucket_lower(i)), i);
        ASSERT_EQ(Histogram::bucket_index(Histogram::bucket_upper(i)), i);
        if (i >= Histogram::kSubBuckets) {
            double width =
                static_cast<double>(Histogram::bucket_upper(i) - Histogram::bucket_lower(i) + 1);
            ASSERT_LE(width / static_cast<double>(Histogram::bucket_lower(i)), 1.0 / 128.0) << i;
        }
    }
    EXPECT_GE(Histogram::bucket_upper(Histogram::kBucketCount - 1), Histogram::kMaxValue);
    EXPECT_LT(Histogram::kBucketCount, 4096u);  // 24 KiB of counters per histogram
}

TEST(Histogram, Empty) {
    Histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(50), 0u);
    EXPECT_EQ(h.mean(), 0.0);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_FALSE(h.to_sparse().validate().has_value());
}

TEST(Histogram, SmallValuesAreExact) {
    Histogram h;
    for (std::uint64_t v = 0; v < 128; ++v) h.record(v);
    EXPECT_EQ(h.percentile(50), 63u);
    EXPECT_EQ(h.percentile(100), 127u);
    EXPECT_EQ(h.percentile(0), 0u);
}

TEST(Histogram, PercentilesWithin1PercentOfOracle) {
    std::mt19937_64 rng(42);
    std::vector<std::uint64_t> uniform, log_uniform, exponential, narrow;
    std::uniform_int_distribution<std::uint64_t> u(1, 1'000'000);
    std::uniform_real_distribution<double> lu(0.0, std::log(600e6));
    std::exponential_distribution<double> ex(1.0 / 20'000.0);
    std::normal_distribution<double> nd(3000.0, 50.0);
    for (int i = 0; i < 100'000; ++i) {
        uniform.push_back(u(rng));
        log_uniform.push_back(static_cast<std::uint64_t>(std::exp(lu(rng))));
        exponential.push_back(1 + static_cast<std::uint64_t>(ex(rng)));
        narrow.push_back(static_cast<std::uint64_t>(std::max(1.0, nd(rng))));
    }
    expect_within_1pct(uniform, "uniform");
    expect_within_1pct(log_uniform, "log-uniform");
    expect_within_1pct(exponential, "exponential");
    expect_within_1pct(narrow, "narrow normal");
    expect_within_1pct({5}, "single value");
    expect_within_1pct({1, 600'000'000}, "extremes");
}

TEST(Histogram, MergeEqualsRecordingAll) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> lu(0.0, std::log(1e8));
    Histogram all, parts[3];
    for (int i = 0; i < 30'000; ++i) {
        auto v = static_cast<std::uint64_t>(std::exp(lu(rng)));
        all.record(v);
        parts[i % 3].record(v);
    }
    parts[2].record(Histogram::kMaxValue * 2);  // overflow travels too
    all.record(Histogram::kMaxValue * 2);
    Histogram merged;
    for (const auto& p : parts) merged.merge(p);
    EXPECT_EQ(merged, all);
    // Merging the wire form gives the same.
    Histogram from_wire;
    for (const auto& p : parts) from_wire.merge(p.to_sparse());
    EXPECT_EQ(from_wire, all);
    // Merging an empty histogram changes nothing, in either direction.
    Histogram empty;
    merged.merge(empty);
    EXPECT_EQ(merged, all);
    empty.merge(all);
    EXPECT_EQ(empty, all);
}

TEST(Histogram, SparseRoundTrip) {
    Histogram h;
    for (std::uint64_t v : {3ull, 3ull, 150ull, 10'000ull, 10'001ull, 599'999'999ull}) h.record(v);
    SparseHistogram s = h.to_sparse();
    EXPECT_FALSE(s.validate().has_value()) << *s.validate();
    EXPECT_EQ(s.count(), 6u);
    EXPECT_EQ(s.buckets.size(), 4u);  // 10'000 and 10'001 share a bucket
    auto back = Histogram::from_sparse(s);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(*back, h);
}

TEST(Histogram, OverflowClampsAndCounts) {
    Histogram h;
    h.record(100);
    h.record(Histogram::kMaxValue + 1);
    h.record(1'000'000'000'000ull);
    h.record(~0ull);
    EXPECT_EQ(h.count(), 4u);
    EXPECT_EQ(h.overflow(), 3u);
    EXPECT_EQ(h.max(), Histogram::kMaxValue);
    EXPECT_EQ(h.percentile(100), Histogram::kMaxValue);
    EXPECT_EQ(h.sum(), 100 + 3 * Histogram::kMaxValue);
    EXPECT_FALSE(h.to_sparse().validate().has_value());
}

TEST(Histogram, RecordManyAndReset) {
    Histogram h;
    h.record(1000, 10);
    h.record(5, 0);  // no-op
    EXPECT_EQ(h.count(), 10u);
    EXPECT_EQ(h.min(), 1000u);
    h.reset();
    EXPECT_EQ(h, Histogram());
}

TEST(Histogram, RecordDoesNotAllocate) {
    Histogram h;
    std::mt19937_64 rng(1);
    std::uint64_t before = allocations.load();
    for (int i = 0; i < 100'000; ++i) h.record(rng() % (2 * Histogram::kMaxValue));
    EXPECT_EQ(allocations.load(), before);
}

TEST(SparseHistogram, ValidateRejectsInconsistentData) {
    Histogram h;
    h.record(10);
    h.record(5000);
    const SparseHistogram good = h.to_sparse();
    ASSERT_FALSE(good.validate().has_value());

    auto broken = [&](auto mutate) {
        SparseHistogram s = good;
        mutate(s);
        return s.validate();
    };
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.buckets[1].first = Histogram::kBucketCount; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { std::swap(s.buckets[0], s.buckets[1]); }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.buckets[1].first = s.buckets[0].first; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.buckets[0].second = 0; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.min = 11; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.max = 10; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.max = Histogram::kMaxValue + 1; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.sum = 1; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.sum = ~0ull; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.overflow = 1; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.buckets[0].second = ~0ull; }));
    EXPECT_TRUE(broken([](SparseHistogram& s) { s.buckets.clear(); }));
    EXPECT_FALSE(Histogram::from_sparse(SparseHistogram{0, 0, 0, 0, {{3, 1}}}).ok());
    EXPECT_TRUE(Histogram::from_sparse(SparseHistogram{3, 3, 3, 0, {{3, 1}}}).ok());
}

}  // namespace
}  // namespace bts::util
