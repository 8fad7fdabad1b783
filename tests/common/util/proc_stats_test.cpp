// Tests for ProcSampler (src/common/util/proc_stats.hpp) against fixture /proc files and the
// real /proc.
#include "common/util/proc_stats.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace bts::util {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class FakeProc : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("bts_proc_test_" + std::to_string(::getpid()));
        fs::create_directories(root_ / "self");
        write(0, 0, 0);
    }
    void TearDown() override { fs::remove_all(root_); }

    // busy/idle ticks for the host, utime+stime ticks for the process.
    void write(std::uint64_t busy, std::uint64_t idle, std::uint64_t proc_ticks) {
        std::ofstream(root_ / "stat") << "cpu  " << busy << " 0 0 " << idle << " 0 0 0 0 0 0\n"
                                      << "cpu0 1 0 0 1 0 0 0 0 0 0\n"
                                      << "cpu1 1 0 0 1 0 0 0 0 0 0\n"
                                      << "intr 12345\n";
        std::ofstream(root_ / "loadavg") << "1.50 0.75 0.25 2/345 6789\n";
        // Command names may contain spaces and parentheses.
        std::ofstream(root_ / "self" / "stat")
            << "42 (bts (beacon) x) R 1 42 42 0 -1 4194560 100 0 0 0 " << proc_ticks
            << " 0 0 0 20 0 3 0 100 1000000 250\n";
        std::ofstream(root_ / "self" / "statm") << "1000 250 100 1 0 200 0\n";
    }

    fs::path root_;
};

TEST_F(FakeProc, ComputesSharesFromDeltas) {
    ProcSampler sampler(root_.string());
    const long hz = ::sysconf(_SC_CLK_TCK);
    // One second: host 30 busy of 100 ticks; process used half a second of CPU.
    write(30, 70, static_cast<std::uint64_t>(hz / 2));
    ProcSample s = sampler.sample(1s);
    EXPECT_TRUE(s.ok);
    EXPECT_NEAR(s.host_cpu_pct, 30.0, 1e-9);
    EXPECT_NEAR(s.proc_cpu_pct, 50.0, 1e-9);
    EXPECT_EQ(s.rss_bytes, 250u * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
    EXPECT_DOUBLE_EQ(s.load1, 1.5);
    EXPECT_DOUBLE_EQ(s.load5, 0.75);
    EXPECT_DOUBLE_EQ(s.load15, 0.25);
    EXPECT_EQ(s.cpu_count, 2u);
    // Next interval: everything idle, process used 2 s of CPU in 1 s (two threads).
    write(30, 170, static_cast<std::uint64_t>(hz / 2 + 2 * hz));
    s = sampler.sample(1s);
    EXPECT_NEAR(s.host_cpu_pct, 0.0, 1e-9);
    EXPECT_NEAR(s.proc_cpu_pct, 200.0, 1e-9);
    // Counters going backwards (not expected from a kernel) give 0, not garbage.
    write(10, 10, 0);
    s = sampler.sample(1s);
    EXPECT_EQ(s.host_cpu_pct, 0.0);
    EXPECT_EQ(s.proc_cpu_pct, 0.0);
}

TEST_F(FakeProc, MissingFilesAreReportedNotThrown) {
    fs::remove(root_ / "self" / "statm");
    fs::remove(root_ / "stat");
    ProcSampler sampler(root_.string());
    ProcSample s = sampler.sample(1s);
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.rss_bytes, 0u);
    EXPECT_DOUBLE_EQ(s.load1, 1.5);  // what could be read still is
    ProcSampler nowhere("/nonexistent/proc");
    EXPECT_FALSE(nowhere.sample().ok);
}

TEST(ProcSampler, RealProc) {
    ProcSampler sampler;
    // Burn a little CPU so the process share is measurable.
    volatile std::uint64_t x = 0;
    auto until = std::chrono::steady_clock::now() + 50ms;
    while (std::chrono::steady_clock::now() < until) x = x + 1;
    ProcSample s = sampler.sample();
    EXPECT_TRUE(s.ok);
    EXPECT_GT(s.rss_bytes, 0u);
    EXPECT_GE(s.cpu_count, 1u);
    EXPECT_GE(s.host_cpu_pct, 0.0);
    EXPECT_LE(s.host_cpu_pct, 100.0);
    EXPECT_GE(s.proc_cpu_pct, 0.0);
    EXPECT_LE(s.proc_cpu_pct, 100.0 * s.cpu_count + 20.0);  // tick granularity
}

}  // namespace
}  // namespace bts::util
