// Logging for every program: one spdlog logger writing to stderr, a rate limiter for warnings
// about malformed network input, and redact() for foreign strings that might carry secrets.
//
//   auto log = setup_logging("bts-collector", doc.get_string("log.level", "info"));
//   RateLimitedWarn bad_input(*log);            // 5 per key per 10 s by default
//   if (!msg) bad_input.warn(peer, "dropped malformed message from {}: {}", peer, msg.error());
//
// Nothing here throws (spdlog's own errors are swallowed by its error handler).
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bts::util {

// "trace", "debug", "info", "warn"/"warning", "error", "critical", "off" (case-insensitive).
[[nodiscard]] std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text);

// Creates the program's logger (stderr, thread-safe, colour when stderr is a terminal), makes
// it spdlog's default logger and returns it. An unknown level falls back to "info" with a
// warning. Calling it again replaces the logger (tests). Never throws.
std::shared_ptr<spdlog::logger> setup_logging(std::string_view program,
                                              std::string_view level = "info") noexcept;

// At most `burst` warnings per key per `interval`; the rest are counted. When a key's next
// interval starts, its first warning is followed by a line with the number suppressed since
// ("(12 similar suppressed)"). At most kMaxKeys keys are tracked (keys come from the
// network, so their number is bounded): beyond that, new keys share one "<other>" budget.
// One instance per actor/thread; not thread-safe.
class RateLimitedWarn {
  public:
    static constexpr std::size_t kMaxKeys = 1024;

    explicit RateLimitedWarn(
        spdlog::logger& logger, std::size_t burst = 5,
        std::chrono::steady_clock::duration interval = std::chrono::seconds(10));

    // Logs at warn level unless key's budget is spent. Returns true if it logged.
    template <class... Args>
    bool warn(std::string_view key, spdlog::format_string_t<Args...> fmt, Args&&... args) {
        auto admitted = admit(key, std::chrono::steady_clock::now());
        if (!admitted) return false;
        logger_->log(spdlog::level::warn, fmt, std::forward<Args>(args)...);
        if (*admitted > 0) logger_->log(spdlog::level::warn, "({} similar suppressed)", *admitted);
        return true;
    }

    // The rate-limiting decision alone, with an explicit clock (tests, or callers logging in
    // another way): nullopt = suppress; otherwise log, and the value is how many warnings for
    // this key were suppressed since it last logged.
    [[nodiscard]] std::optional<std::uint64_t> admit(std::string_view key,
                                                     std::chrono::steady_clock::time_point now);

    std::uint64_t suppressed_total() const { return suppressed_total_; }
    std::uint64_t logged_total() const { return logged_total_; }

  private:
    struct KeyState {
        std::chrono::steady_clock::time_point window_start;
        std::size_t used = 0;
        std::uint64_t suppressed = 0;
    };

    spdlog::logger* logger_;
    std::size_t burst_;
    std::chrono::steady_clock::duration interval_;
    std::unordered_map<std::string, KeyState> keys_;
    std::uint64_t suppressed_total_ = 0;
    std::uint64_t logged_total_ = 0;
};

// Replaces substrings that look like secrets with "<redacted>": WIF private keys (51 base58
// characters starting with '5', or 52 starting with 'K'/'L') and Z85 CURVE secret keys (40 Z85
// characters containing both upper- and lower-case letters, standing alone, after '=' or ':',
// in brackets, or before closing punctuation). A heuristic for defence in depth before logging
// foreign strings: it may hide a harmless token of the same shape, and it cannot know about secrets
// in other encodings.
// Also replaces the user info of every URL in the text ("wss://user:pass@host/" becomes
// "wss://<redacted>@host/"): credentials written into a URL must not reach a log or a peer.
[[nodiscard]] std::string redact(std::string_view text);

// A URL for printing: its user info, if any, replaced by "<redacted>"; the rest unchanged. Every
// site that prints a URL it was given (config, command line, peer) prints redact_url(url).
[[nodiscard]] std::string redact_url(std::string_view url);

// Foreign text (a node's reply, a peer's error) made safe for a one-line log: control
// characters and invalid UTF-8 bytes written as \n, \t, \xHH; cut to `max` bytes (then "…").
[[nodiscard]] std::string printable(std::string_view text, std::size_t max = 200);

}  // namespace bts::util
