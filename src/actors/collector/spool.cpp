// Segmented append-only spool files with a saved read cursor.
#include "actors/collector/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace bts::collector {
namespace fs = std::filesystem;
namespace {

bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

ssize_t pread_all(int fd, char* p, std::size_t n, std::uint64_t off) {
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(off + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        done += static_cast<std::size_t>(r);
    }
    return static_cast<ssize_t>(done);
}

// Counts newlines of `path` from `from`; sets `valid_end` just past the last newline that ends
// an item (an even count), i.e. the last complete item.
bool scan(const std::string& path, std::uint64_t from, std::uint64_t& newlines, std::uint64_t& valid_end) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::vector<char> buf(1 << 20);
    std::uint64_t off = from;
    newlines = 0;
    valid_end = from;
    for (;;) {
        ssize_t r = pread_all(fd, buf.data(), buf.size(), off);
        if (r < 0) {
            ::close(fd);
            return false;
        }
        if (r == 0) break;
        const char* p = buf.data();
        const char* end = p + r;
        while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))))) {
            ++newlines;
            ++p;
            if (newlines % 2 == 0) valid_end = off + static_cast<std::uint64_t>(p - buf.data());
        }
        off += static_cast<std::uint64_t>(r);
    }
    ::close(fd);
    newlines -= newlines % 2;
    return true;
}

}  // namespace

std::string Spool::segment_path(std::uint64_t n) const {
    char name[40];
    std::snprintf(name, sizeof name, "%020llu.ndjson", static_cast<unsigned long long>(n));
    return options_.dir + "/" + name;
}

Spool::Spool(Options options) : options_(std::move(options)) {
    std::error_code ec;
    fs::create_directories(options_.dir, ec);
    if (ec) throw std::runtime_error(options_.dir + ": cannot create spool directory: " + ec.message());
    for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
        std::string name = entry.path().filename().string();
        if (name.size() != 27 || name.substr(20) != ".ndjson") continue;
        if (name.find_first_not_of("0123456789") != 20) continue;
        segments_[std::stoull(name.substr(0, 20))] = entry.file_size();
    }
    if (ec) throw std::runtime_error(options_.dir + ": cannot list spool directory: " + ec.message());

    // The cursor; a missing or unreadable one means "from the oldest segment" (replaying too
    // much is harmless: every item is idempotent).
    cursor_ = {segments_.empty() ? 1 : segments_.begin()->first, 0};
    {
        std::ifstream in(options_.dir + "/cursor");
        std::uint64_t s = 0, o = 0;
        if (in >> s >> o) cursor_ = {s, o};
    }
    if (!segments_.empty()) {
        if (segments_.count(cursor_.segment) == 0) {
            auto it = segments_.lower_bound(cursor_.segment);
            cursor_ = it == segments_.end() ? Position{segments_.rbegin()->first, segments_.rbegin()->second}
                                            : Position{it->first, 0};
        }
        cursor_.offset = std::min(cursor_.offset, segments_[cursor_.segment]);
    }
    for (auto it = segments_.begin(); it != segments_.end() && it->first < cursor_.segment;) {
        fs::remove(segment_path(it->first), ec);
        it = segments_.erase(it);
    }
    // Cut a torn item off the last segment, then count what is pending.
    if (!segments_.empty()) {
        auto last = segments_.rbegin();
        std::uint64_t nl = 0, valid_end = 0;
        if (!scan(segment_path(last->first), 0, nl, valid_end))
            throw std::runtime_error(segment_path(last->first) + ": cannot read: " + std::strerror(errno));
        if (valid_end < last->second) {
            if (::truncate(segment_path(last->first).c_str(), static_cast<off_t>(valid_end)) != 0)
                throw std::runtime_error(segment_path(last->first) + ": cannot truncate: " + std::strerror(errno));
            last->second = valid_end;
        }
        cursor_.offset = std::min(cursor_.offset, segments_[cursor_.segment]);
        for (const auto& [n, size] : segments_) {
            std::uint64_t from = n == cursor_.segment ? cursor_.offset : 0;
            std::uint64_t lines = 0, ve = 0;
            if (!scan(segment_path(n), from, lines, ve))
                throw std::runtime_error(segment_path(n) + ": cannot read: " + std::strerror(errno));
            pending_items_ += lines / 2;
            pending_bytes_ += size - from;
        }
    }
    std::uint64_t next = segments_.empty() ? cursor_.segment : segments_.rbegin()->first;
    if (!segments_.empty() && segments_.rbegin()->second >= options_.segment_bytes) ++next;
    if (!open_segment(next)) throw std::runtime_error(last_error_);
    if (!save_cursor(cursor_)) throw std::runtime_error(last_error_);
}

Spool::~Spool() {
    if (write_fd_ >= 0) {
        ::fdatasync(write_fd_);
        ::close(write_fd_);
    }
    if (read_fd_ >= 0) ::close(read_fd_);
}

bool Spool::open_segment(std::uint64_t n) {
    int fd = ::open(segment_path(n).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        std::lock_guard lock(mu_);
        ++errors_;
        last_error_ = segment_path(n) + ": cannot open: " + std::strerror(errno);
        return false;
    }
    if (write_fd_ >= 0) {
        ::fdatasync(write_fd_);
        ::close(write_fd_);
    }
    write_fd_ = fd;
    write_segment_ = n;
    std::lock_guard lock(mu_);
    segments_.emplace(n, 0);  // keeps the size if it exists
    return true;
}

Spool::AppendResult Spool::append(std::string_view bytes, std::size_t items) {
    if (bytes.empty()) return AppendResult::kOk;
    std::uint64_t size = 0;
    {
        std::lock_guard lock(mu_);
        if (pending_bytes_ + bytes.size() > options_.max_bytes) return AppendResult::kFull;
        size = segments_[write_segment_];
    }
    if (size > 0 && size + bytes.size() > options_.segment_bytes) {
        if (!open_segment(write_segment_ + 1)) return AppendResult::kError;
        size = 0;
    }
    if (!write_all(write_fd_, bytes.data(), bytes.size())) {
        int err = errno;
        // Leave no torn item behind: the next append must start on an item boundary.
        if (::ftruncate(write_fd_, static_cast<off_t>(size)) != 0) { /* recovery on open cuts it */ }
        std::lock_guard lock(mu_);
        ++errors_;
        last_error_ = segment_path(write_segment_) + ": write failed: " + std::strerror(err);
        return AppendResult::kError;
    }
    {
        std::lock_guard lock(mu_);
        segments_[write_segment_] = size + bytes.size();
        pending_bytes_ += bytes.size();
        pending_items_ += items;
    }
    cv_.notify_all();
    return AppendResult::kOk;
}

bool Spool::sync() {
    if (write_fd_ >= 0 && ::fdatasync(write_fd_) != 0) {
        std::lock_guard lock(mu_);
        ++errors_;
        last_error_ = segment_path(write_segment_) + ": fdatasync failed: " + std::strerror(errno);
        return false;
    }
    return true;
}

Spool::Batch Spool::read(Position from, std::size_t max_items, std::size_t max_bytes) {
    Batch batch;
    std::uint64_t available = 0;
    {
        std::lock_guard lock(mu_);
        auto it = segments_.lower_bound(from.segment);
        if (it == segments_.end()) {
            batch.end = from;
            return batch;
        }
        if (it->first != from.segment) from = {it->first, 0};
        // At the end of a finished segment: continue in the next one.
        while (from.offset >= it->second) {
            auto next = std::next(it);
            if (next == segments_.end()) break;
            it = next;
            from = {it->first, 0};
        }
        available = it->second > from.offset ? it->second - from.offset : 0;
    }
    batch.end = from;
    if (available == 0 || max_items == 0) return batch;
    if (read_fd_ < 0 || read_segment_ != from.segment) {
        if (read_fd_ >= 0) ::close(read_fd_);
        read_fd_ = ::open(segment_path(from.segment).c_str(), O_RDONLY | O_CLOEXEC);
        read_segment_ = from.segment;
        if (read_fd_ < 0) {
            std::lock_guard lock(mu_);
            ++errors_;
            last_error_ = segment_path(from.segment) + ": cannot open: " + std::strerror(errno);
            return batch;
        }
    }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(available, std::max<std::size_t>(max_bytes, 4096)));
    for (;;) {
        batch.bytes.resize(want);
        ssize_t r = pread_all(read_fd_, batch.bytes.data(), want, from.offset);
        if (r < 0) {
            std::lock_guard lock(mu_);
            ++errors_;
            last_error_ = segment_path(from.segment) + ": read failed: " + std::strerror(errno);
            batch.bytes.clear();
            return batch;
        }
        batch.bytes.resize(static_cast<std::size_t>(r));
        // Cut after whole items, within the limits (but at least one item).
        std::size_t newlines = 0, cut = 0, items = 0;
        const char* base = batch.bytes.data();
        const char* p = base;
        const char* end = base + batch.bytes.size();
        while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))))) {
            ++p;
            if (++newlines % 2 != 0) continue;
            auto pos = static_cast<std::size_t>(p - base);
            if (items > 0 && pos > max_bytes) break;
            cut = pos;
            if (++items == max_items) break;
        }
        if (items > 0 || want >= available) {
            batch.bytes.resize(cut);
            batch.items = items;
            batch.end = {from.segment, from.offset + cut};
            return batch;
        }
        want = static_cast<std::size_t>(std::min<std::uint64_t>(available, want * 2));  // one huge item
    }
}

Spool::Position Spool::cursor() const {
    std::lock_guard lock(mu_);
    return cursor_;
}

bool Spool::save_cursor(Position p) {
    const std::string tmp = options_.dir + "/cursor.tmp";
    const std::string text = std::to_string(p.segment) + " " + std::to_string(p.offset) + "\n";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    bool ok = fd >= 0 && write_all(fd, text.data(), text.size());
    if (fd >= 0) ::close(fd);
    ok = ok && std::rename(tmp.c_str(), (options_.dir + "/cursor").c_str()) == 0;
    if (!ok) {
        std::lock_guard lock(mu_);
        ++errors_;
        last_error_ = options_.dir + "/cursor: cannot save: " + std::strerror(errno);
    }
    return ok;
}

bool Spool::commit(Position p, std::size_t items) {
    std::vector<std::uint64_t> remove;
    {
        std::lock_guard lock(mu_);
        cursor_ = p;
        pending_items_ -= std::min<std::uint64_t>(pending_items_, items);
        std::uint64_t bytes = 0;
        for (auto it = segments_.begin(); it != segments_.end();) {
            if (it->first < p.segment && it->first != write_segment_) {
                remove.push_back(it->first);
                it = segments_.erase(it);
                continue;
            }
            bytes += it->first == p.segment ? it->second - std::min(it->second, p.offset) : it->second;
            ++it;
        }
        pending_bytes_ = bytes;
    }
    bool ok = save_cursor(p);
    for (std::uint64_t n : remove) {
        if (read_fd_ >= 0 && read_segment_ == n) {
            ::close(read_fd_);
            read_fd_ = -1;
        }
        std::error_code ec;
        fs::remove(segment_path(n), ec);
    }
    return ok;
}

bool Spool::wait(std::uint64_t items, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return woken_ || pending_items_ > items; });
    bool r = pending_items_ > items;
    woken_ = false;
    return r;
}

void Spool::wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

std::uint64_t Spool::pending_bytes() const {
    std::lock_guard lock(mu_);
    return pending_bytes_;
}
std::uint64_t Spool::pending_items() const {
    std::lock_guard lock(mu_);
    return pending_items_;
}
std::uint64_t Spool::errors() const {
    std::lock_guard lock(mu_);
    return errors_;
}
std::string Spool::last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
}

}  // namespace bts::collector
