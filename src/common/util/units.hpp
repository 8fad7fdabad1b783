// Human-written quantities in config files and on command lines: durations ("500ms", "1m30s"),
// sizes and counts ("2k", "2Ki", "2MiB", "1.5k") and rates ("unlimited", "2k", "500/s"),
// and formatting them back to the same notation for logs and reports.
//
// Grammar (whitespace around the text is ignored; none is allowed inside):
//   duration := number [unit] { number unit }      plain number = seconds; "1h30m" is 5400 s
//     unit    := ns | us | µs | ms | s | sec | m | min | h | d
//   size      := number [prefix] [B]               result must be a whole number
//     prefix  := k | K | M | G | T  (powers of 1000)  |  Ki | Mi | Gi | Ti  (powers of 1024)
//   rate      := "unlimited" | number [k | M] [ "/s" | "/min" | "/h" ]    per second by default
//   number    := digits [ "." digits ]             no sign, no exponent
// Errors name the text and what was wrong, e.g. `"30x": unknown duration unit "x"`.
#pragma once

#include "common/util/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bts::util {

using Duration = std::chrono::nanoseconds;

// A send rate. per_second == 0 means unlimited (as on the wire: StatsInterval::configured_rate).
struct Rate {
    double per_second = 0.0;

    static constexpr Rate unlimited() { return Rate{0.0}; }
    static constexpr Rate every_second(double n) { return Rate{n}; }
    constexpr bool is_unlimited() const { return per_second <= 0.0; }
    friend bool operator==(const Rate&, const Rate&) = default;
};

// Durations: negative values and values beyond ~292 years are errors.
[[nodiscard]] Result<Duration> parse_duration(std::string_view text);
// Sizes in bytes and plain counts share one grammar ("2k" connections, "2MiB" buffer).
[[nodiscard]] Result<std::uint64_t> parse_size(std::string_view text);
[[nodiscard]] inline Result<std::uint64_t> parse_count(std::string_view text) {
    return parse_size(text);
}
// Rates: zero is an error (write "unlimited" to mean no limit).
[[nodiscard]] Result<Rate> parse_rate(std::string_view text);

// "0s", "250us", "1.5ms", "30s", "2m", "1m30.5s", "1d2h". Below one second exact to the
// microsecond; from one second up rounded to the millisecond. The output parses back with
// parse_duration (negative durations are written with a leading '-', which it rejects).
[[nodiscard]] std::string format_duration(Duration d);
// Counts: "999", "2k", "1.5k", "1.23M" (three significant digits, decimal prefixes).
[[nodiscard]] std::string format_count(std::uint64_t n);
// Bytes: "512B", "2KiB", "1.5MiB", "3.21GiB" (binary prefixes, three significant digits).
[[nodiscard]] std::string format_bytes(std::uint64_t n);
// "unlimited" or "<count>/s", e.g. "2k/s", "0.5/s".
[[nodiscard]] std::string format_rate(Rate r);

}  // namespace bts::util
