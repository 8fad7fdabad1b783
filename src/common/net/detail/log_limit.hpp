// Internal: rate limit for warnings about bad network input, so a misbehaving peer cannot flood the log.
#pragma once

#include <chrono>
#include <cstdint>

namespace bts::net::detail {

// Allows `burst` messages per `window`; the first message after a quiet period learns how many
// were suppressed so it can say so.
class LogLimit {
 public:
  explicit LogLimit(uint32_t burst = 5, std::chrono::seconds window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  // True when this message may be logged; `suppressed` is set to the count dropped since the last one.
  bool allow(uint64_t& suppressed) noexcept {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= window_) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ < burst_) {
      ++used_;
      suppressed = dropped_;
      dropped_ = 0;
      return true;
    }
    ++dropped_;
    return false;
  }

 private:
  uint32_t burst_;
  std::chrono::steady_clock::duration window_;
  std::chrono::steady_clock::time_point window_start_{};
  uint32_t used_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace bts::net::detail
