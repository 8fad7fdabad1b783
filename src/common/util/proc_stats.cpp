// Reads /proc/stat, /proc/loadavg, /proc/self/stat and /proc/self/statm for ProcSampler.
#include "common/util/proc_stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace bts::util {
namespace {

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

}  // namespace

ProcSampler::ProcSampler(std::string proc_root)
    : root_(std::move(proc_root)),
      ticks_per_second_(::sysconf(_SC_CLK_TCK)),
      page_size_(::sysconf(_SC_PAGESIZE)),
      last_time_(std::chrono::steady_clock::now()) {
    if (ticks_per_second_ <= 0) ticks_per_second_ = 100;
    if (page_size_ <= 0) page_size_ = 4096;
    unsigned cpus = 0;
    read_host(last_host_, cpus);
    read_proc_ticks(last_proc_ticks_);
}

ProcSample ProcSampler::sample() {
    auto now = std::chrono::steady_clock::now();
    auto elapsed = now - last_time_;
    last_time_ = now;
    return sample(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
}

ProcSample ProcSampler::sample(std::chrono::nanoseconds wall_elapsed) {
    ProcSample s;
    HostTicks host;
    if (read_host(host, s.cpu_count)) {
        // Counters only grow; a smaller value means a wrapped or swapped file: report 0.
        if (host.total > last_host_.total && host.busy >= last_host_.busy) {
            double busy = static_cast<double>(host.busy - last_host_.busy);
            double total = static_cast<double>(host.total - last_host_.total);
            s.host_cpu_pct = 100.0 * busy / total;
        }
        last_host_ = host;
    } else {
        s.ok = false;
    }
    std::uint64_t proc_ticks = 0;
    if (read_proc_ticks(proc_ticks)) {
        double seconds = std::chrono::duration<double>(wall_elapsed).count();
        if (seconds > 0 && proc_ticks >= last_proc_ticks_) {
            double cpu_seconds = static_cast<double>(proc_ticks - last_proc_ticks_) /
                                 static_cast<double>(ticks_per_second_);
            s.proc_cpu_pct = 100.0 * cpu_seconds / seconds;
        }
        last_proc_ticks_ = proc_ticks;
    } else {
        s.ok = false;
    }
    if (!read_rss(s.rss_bytes)) s.ok = false;
    if (!read_loadavg(s)) s.ok = false;
    return s;
}

bool ProcSampler::read_host(HostTicks& ticks, unsigned& cpus) const {
    std::string text;
    if (!read_file(root_ + "/stat", text)) return false;
    std::istringstream in(text);
    std::string line;
    bool found = false;
    cpus = 0;
    while (std::getline(in, line)) {
        if (line.rfind("cpu ", 0) == 0) {
            // cpu user nice system idle iowait irq softirq steal guest guest_nice.
            // guest time is already included in user/nice, so it is not added again.
            std::istringstream fields(line.substr(4));
            std::uint64_t v[8] = {};
            int n = 0;
            while (n < 8 && fields >> v[n]) ++n;
            if (n < 4) return false;
            std::uint64_t idle = v[3] + v[4];  // idle + iowait
            std::uint64_t total = 0;
            for (int i = 0; i < n; ++i) total += v[i];
            ticks.total = total;
            ticks.busy = total - idle;
            found = true;
        } else if (line.rfind("cpu", 0) == 0) {
            ++cpus;
        }
    }
    return found;
}

bool ProcSampler::read_proc_ticks(std::uint64_t& ticks) const {
    std::string text;
    if (!read_file(root_ + "/self/stat", text)) return false;
    // The command name (field 2) is in parentheses and may contain spaces or ')': fields are
    // counted from the last ')'.
    auto close = text.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream in(text.substr(close + 1));
    std::string field;
    // After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    // utime(14) stime(15).
    for (int i = 3; i <= 13; ++i)
        if (!(in >> field)) return false;
    std::uint64_t utime = 0;
    std::uint64_t stime = 0;
    if (!(in >> utime >> stime)) return false;
    ticks = utime + stime;
    return true;
}

bool ProcSampler::read_rss(std::uint64_t& bytes) const {
    std::string text;
    if (!read_file(root_ + "/self/statm", text)) return false;
    std::istringstream in(text);
    std::uint64_t size_pages = 0;
    std::uint64_t resident_pages = 0;
    if (!(in >> size_pages >> resident_pages)) return false;
    bytes = resident_pages * static_cast<std::uint64_t>(page_size_);
    return true;
}

bool ProcSampler::read_loadavg(ProcSample& s) const {
    std::string text;
    if (!read_file(root_ + "/loadavg", text)) return false;
    std::istringstream in(text);
    return static_cast<bool>(in >> s.load1 >> s.load5 >> s.load15);
}

}  // namespace bts::util
