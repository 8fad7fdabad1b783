// The disk spool: a durable FIFO of Elasticsearch bulk items between the collector thread
// (writer) and the Elasticsearch sink thread (reader). Every document for Elasticsearch passes
// through it, so nothing accepted by the collector is lost when Elasticsearch is slow, full or
// down, or when the collector itself restarts: the reader resumes at the saved cursor and
// replays in order (replayed items are answered 409 and counted as already stored).
//
// Layout of `dir`:
//   <20-digit number>.ndjson   segments, appended in order; each item is two lines (bulk
//                              action, document), so a segment is a valid _bulk body
//   cursor                     "<segment> <offset>\n": where unshipped data starts
// Segments entirely before the cursor are deleted. On open, a torn item at the end of the last
// segment (the process died mid-write) is cut off.
//
// Bounded: an append that would take the unshipped bytes over max_bytes is refused (kFull);
// the caller counts and warns. Durability: append() writes to the OS at once (survives a
// process crash); sync() adds fdatasync (survives power loss), called every sync interval.
//
// Thread-safety: one writer thread (append, sync) and one reader thread (read, commit, wait);
// stats are safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace bts::collector {

class Spool {
public:
    struct Options {
        std::string dir;
        std::uint64_t max_bytes = 1ull << 30;
        std::uint64_t segment_bytes = 64ull << 20;
    };
    struct Position {
        std::uint64_t segment = 0;
        std::uint64_t offset = 0;
        friend bool operator==(const Position&, const Position&) = default;
    };
    struct Batch {
        std::string bytes;      // whole items, ready to be a _bulk body
        std::size_t items = 0;
        Position end;           // position after the last item
    };
    enum class AppendResult { kOk, kFull, kError };

    // Creates the directory if needed and recovers. Throws std::runtime_error (start-up only).
    explicit Spool(Options options);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Writer: appends complete items (`items` of them, 2 lines each) as one write.
    AppendResult append(std::string_view items_bytes, std::size_t items);
    bool sync();

    // Reader: up to max_items / max_bytes (at least one item) starting at `from`; empty batch
    // when nothing is there. Stops at a segment end (the next read continues in the next one).
    Batch read(Position from, std::size_t max_items, std::size_t max_bytes);
    Position cursor() const;
    // Marks everything before `p` shipped: saves the cursor, deletes finished segments.
    bool commit(Position p, std::size_t items);
    // Waits until more than `items` items are unshipped, or timeout, or wake(). True if so.
    bool wait(std::uint64_t items, std::chrono::milliseconds timeout);
    void wake();

    std::uint64_t pending_bytes() const;
    std::uint64_t pending_items() const;
    std::uint64_t max_bytes() const { return options_.max_bytes; }
    std::string last_error() const;
    std::uint64_t errors() const;

private:
    std::string segment_path(std::uint64_t n) const;
    bool open_segment(std::uint64_t n);
    bool save_cursor(Position p);

    Options options_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::uint64_t, std::uint64_t> segments_;  // number → bytes written
    Position cursor_;
    std::uint64_t pending_bytes_ = 0;
    std::uint64_t pending_items_ = 0;
    std::uint64_t errors_ = 0;
    bool woken_ = false;
    int write_fd_ = -1;
    std::uint64_t write_segment_ = 0;
    int read_fd_ = -1;
    std::uint64_t read_segment_ = 0;
    std::string last_error_;
};

}  // namespace bts::collector
