// Where interval statistics go: ZeroMQ PUSH to a collector (one msgpack wire::StatsInterval per
// interval, non-blocking: a message that cannot be queued is counted, never waited for) and/or
// JSON lines on stdout for standalone use.
#pragma once

#include "common/wire.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bts::beacon {

class StatsSink {
public:
    using LineWriter = std::function<void(std::string_view line)>;

    // `zmq_context` (a void* from zmq_ctx_new, owned by main) is needed only for endpoint sinks.
    // `write_line` receives JSON lines for the "stdout" sink. Throws std::runtime_error when an
    // endpoint cannot be set up (start-up only).
    StatsSink(const std::vector<std::string>& sinks, void* zmq_context, LineWriter write_line);
    ~StatsSink();
    StatsSink(const StatsSink&) = delete;
    StatsSink& operator=(const StatsSink&) = delete;

    [[nodiscard]] bool wants_json() const { return json_ && bool(write_line_); }
    void send_line(std::string_view line);
    // Encodes once and pushes to every endpoint. Never blocks, never throws.
    void push(const wire::StatsInterval& s);
    void push(const wire::RunEvent& e);

    [[nodiscard]] std::uint64_t pushed() const { return pushed_; }
    [[nodiscard]] std::uint64_t push_failures() const { return push_failures_; }
    [[nodiscard]] std::uint64_t resent() const { return resent_; }

    // Every StatsInterval frame is pushed a second time, byte for byte, this long after the
    // first: a collector killed with messages in its socket buffers loses them, and the copy
    // (deduplicated by (run, beacon, seq) in the collector) fills the gap. See docs/collector.md.
    static constexpr std::chrono::seconds kResendAfter{5};

private:
    void push_frame(const std::string& frame);
    void resend_due(std::chrono::steady_clock::time_point now, bool all);

    bool json_ = false;
    LineWriter write_line_;
    std::vector<void*> sockets_;
    std::uint64_t pushed_ = 0;
    std::uint64_t push_failures_ = 0;
    std::uint64_t resent_ = 0;
    struct Pending {
        std::chrono::steady_clock::time_point first_sent;
        std::string frame;
    };
    std::deque<Pending> resend_queue_;
};

}  // namespace bts::beacon
