// Host and process resource figures for the per-interval stats (StatsInterval.host_cpu_pct,
// proc_cpu_pct, rss_bytes) — read from Linux /proc so a stressed beacon can tell whether it,
// rather than the node under test, is the bottleneck.
//
//   ProcSampler sampler;                 // takes the baseline readings
//   ... once per interval ...
//   ProcSample s = sampler.sample();     // CPU figures are averages since the previous call
//
// Never throws: a figure that cannot be read is reported as 0 and ProcSample::ok is false.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bts::util {

struct ProcSample {
    double host_cpu_pct = 0.0;    // busy share of all cores since the previous sample, 0..100
    double proc_cpu_pct = 0.0;    // this process, percent of ONE core (top's convention): a
                                  // process with 3 busy threads shows ~300
    std::uint64_t rss_bytes = 0;  // resident set size now
    double load1 = 0.0;           // /proc/loadavg
    double load5 = 0.0;
    double load15 = 0.0;
    unsigned cpu_count = 0;  // cores counted in /proc/stat
    bool ok = true;          // false if some /proc file could not be read or parsed
};

class ProcSampler {
  public:
    // proc_root is "/proc" except in tests, which point it at a directory of fixture files
    // (stat, loadavg, self/stat, self/statm).
    explicit ProcSampler(std::string proc_root = "/proc");

    // Figures since the previous call (or since construction). Call from one thread.
    ProcSample sample();

    // As sample(), with the elapsed wall time given (tests; the CPU share of this process is
    // CPU time over wall time).
    ProcSample sample(std::chrono::nanoseconds wall_elapsed);

  private:
    struct HostTicks {
        std::uint64_t busy = 0;
        std::uint64_t total = 0;
    };
    bool read_host(HostTicks& ticks, unsigned& cpus) const;
    bool read_proc_ticks(std::uint64_t& ticks) const;
    bool read_rss(std::uint64_t& bytes) const;
    bool read_loadavg(ProcSample& s) const;

    std::string root_;
    long ticks_per_second_;
    long page_size_;
    HostTicks last_host_;
    std::uint64_t last_proc_ticks_ = 0;
    std::chrono::steady_clock::time_point last_time_;
};

}  // namespace bts::util
