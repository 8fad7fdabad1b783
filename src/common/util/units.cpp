// Parsing and formatting of durations, sizes/counts and rates (see units.hpp for the grammar).
#include "common/util/units.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace bts::util {
namespace {

using u128 = unsigned __int128;

// A decimal number as written: value = mantissa / 10^frac_digits. Kept exact (no floating
// point) so that "1.1k" is exactly 1100 and "0.3s" exactly 300 ms.
struct Decimal {
    u128 mantissa = 0;
    int frac_digits = 0;
};

// Enough for any uint64 plus fraction digits, small enough that mantissa * 10^16 fits in u128.
constexpr int kMaxDigits = 21;

std::string in_quotes(std::string_view text) {
    std::string out = "\"";
    out.append(text);
    out += '"';
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads a decimal number at the front of `rest`, advancing it. On failure returns an error
// message (without the quoted input, which the caller prefixes).
std::string read_decimal(std::string_view& rest, Decimal& out, bool at_start = true) {
    out = Decimal{};
    int digits = 0;
    std::size_t i = 0;
    while (i < rest.size() && is_digit(rest[i])) {
        out.mantissa = out.mantissa * 10 + static_cast<unsigned>(rest[i] - '0');
        ++i;
        if (++digits > kMaxDigits) return "too many digits";
    }
    if (i == 0) {
        if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) return "sign not allowed";
        if (rest.empty()) return "missing number";
        return at_start ? "expected a number" : "expected a number at " + in_quotes(rest);
    }
    if (i < rest.size() && rest[i] == '.') {
        ++i;
        std::size_t start = i;
        while (i < rest.size() && is_digit(rest[i])) {
            out.mantissa = out.mantissa * 10 + static_cast<unsigned>(rest[i] - '0');
            ++out.frac_digits;
            ++i;
            if (++digits > kMaxDigits) return "too many digits";
        }
        if (i == start) return "expected digits after '.'";
    }
    rest.remove_prefix(i);
    return {};
}

u128 pow10(int n) {
    u128 p = 1;
    for (int i = 0; i < n; ++i) p *= 10;
    return p;
}

// Takes the unit word (letters, or the UTF-8 micro sign) at the front of `rest`.
std::string_view read_unit(std::string_view& rest) {
    std::size_t i = 0;
    while (i < rest.size()) {
        char c = rest[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (letter) {
            ++i;
        } else if (static_cast<unsigned char>(c) == 0xC2 && i + 1 < rest.size() &&
                   static_cast<unsigned char>(rest[i + 1]) == 0xB5) {
            i += 2;  // µ
        } else {
            break;
        }
    }
    std::string_view unit = rest.substr(0, i);
    rest.remove_prefix(i);
    return unit;
}

struct UnitScale {
    std::string_view name;
    std::uint64_t scale;
};

constexpr std::uint64_t kNsPerUs = 1000;
constexpr std::uint64_t kNsPerMs = 1000 * kNsPerUs;
constexpr std::uint64_t kNsPerS = 1000 * kNsPerMs;

constexpr std::array<UnitScale, 10> kDurationUnits{{
    {"ns", 1},
    {"us", kNsPerUs},
    {"\xC2\xB5s", kNsPerUs},
    {"ms", kNsPerMs},
    {"s", kNsPerS},
    {"m", 60 * kNsPerS},
    {"min", 60 * kNsPerS},
    {"h", 3600 * kNsPerS},
    {"d", 86400 * kNsPerS},
    {"sec", kNsPerS},
}};

constexpr std::uint64_t kKi = 1024;
constexpr std::array<UnitScale, 22> kSizeUnits{{
    {"", 1},
    {"B", 1},
    {"k", 1000},
    {"K", 1000},
    {"kB", 1000},
    {"KB", 1000},
    {"M", 1000'000},
    {"MB", 1000'000},
    {"G", 1000'000'000},
    {"GB", 1000'000'000},
    {"T", 1000'000'000'000},
    {"TB", 1000'000'000'000},
    {"Ki", kKi},
    {"KiB", kKi},
    {"ki", kKi},
    {"kiB", kKi},
    {"Mi", kKi* kKi},
    {"MiB", kKi* kKi},
    {"Gi", kKi* kKi* kKi},
    {"GiB", kKi* kKi* kKi},
    {"Ti", kKi* kKi* kKi* kKi},
    {"TiB", kKi* kKi* kKi* kKi},
}};

template <std::size_t N>
const UnitScale* find_unit(const std::array<UnitScale, N>& table, std::string_view name) {
    for (const auto& u : table)
        if (u.name == name) return &u;
    return nullptr;
}

// Three significant digits, trailing zeros trimmed: 1.5, 12.3, 123, 0.25.
std::string sig3(double x) {
    char buf[64];
    int decimals = x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3;
    std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    return s;
}

// value/unit written exactly with up to `digits` decimals, trailing zeros trimmed:
// decimal(1500, 1000, 3) == "1.5". Requires unit == 10^digits.
std::string decimal(std::uint64_t value, std::uint64_t unit, int digits) {
    std::string out = std::to_string(value / unit);
    std::uint64_t frac = value % unit;
    if (frac == 0) return out;
    std::string f = std::to_string(frac);
    f.insert(0, static_cast<std::size_t>(digits) - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    return out + "." + f;
}

// Scales v down by `base` until it reads as at most three digits before the point, then
// appends the prefix and suffix: scaled(1500, 1000, {"", "k"}, "") == "1.5k".
template <std::size_t N>
std::string scaled(double v, double base, const char* const (&prefixes)[N], const char* suffix) {
    std::size_t i = 0;
    // 999.5 and above would print as "1000" after rounding: move to the next prefix.
    while (i + 1 < N && v >= 999.5) {
        v /= base;
        ++i;
    }
    return sig3(v) + prefixes[i] + suffix;
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
    std::string_view rest = trim(text);
    if (rest.empty()) return Error{"empty duration"};
    u128 total_ns = 0;
    bool first = true;
    while (!rest.empty()) {
        Decimal d;
        if (auto err = read_decimal(rest, d, first); !err.empty())
            return Error{in_quotes(text) + ": " + err};
        std::string_view unit = read_unit(rest);
        std::uint64_t scale = kNsPerS;  // a bare number is seconds
        if (unit.empty()) {
            if (!first || !rest.empty())
                return Error{in_quotes(text) + ": missing unit (ns, us, ms, s, m, h, d)"};
        } else {
            const UnitScale* u = find_unit(kDurationUnits, unit);
            if (u == nullptr)
                return Error{in_quotes(text) + ": unknown duration unit " + in_quotes(unit) +
                             " (use ns, us, ms, s, m, h, d)"};
            scale = u->scale;
        }
        u128 den = pow10(d.frac_digits);
        total_ns += (d.mantissa * scale + den / 2) / den;  // round to the nearest nanosecond
        if (total_ns > static_cast<u128>(std::numeric_limits<Duration::rep>::max()))
            return Error{in_quotes(text) + ": duration too large"};
        first = false;
    }
    return Duration{static_cast<Duration::rep>(total_ns)};
}

Result<std::uint64_t> parse_size(std::string_view text) {
    std::string_view rest = trim(text);
    if (rest.empty()) return Error{"empty size"};
    Decimal d;
    if (auto err = read_decimal(rest, d); !err.empty()) return Error{in_quotes(text) + ": " + err};
    std::string_view unit = rest;
    const UnitScale* u = find_unit(kSizeUnits, unit);
    if (u == nullptr)
        return Error{in_quotes(text) + ": unknown size suffix " + in_quotes(unit) +
                     " (use k, M, G, T, Ki, Mi, Gi, Ti, optionally followed by B)"};
    u128 num = d.mantissa * u->scale;
    u128 den = pow10(d.frac_digits);
    if (num % den != 0) return Error{in_quotes(text) + ": not a whole number"};
    u128 value = num / den;
    if (value > std::numeric_limits<std::uint64_t>::max())
        return Error{in_quotes(text) + ": too large"};
    return static_cast<std::uint64_t>(value);
}

Result<Rate> parse_rate(std::string_view text) {
    std::string_view rest = trim(text);
    if (rest.empty()) return Error{"empty rate"};
    std::string lower;
    for (char c : rest) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (lower == "unlimited") return Rate::unlimited();
    Decimal d;
    if (auto err = read_decimal(rest, d); !err.empty()) return Error{in_quotes(text) + ": " + err};
    double value = static_cast<double>(d.mantissa) / static_cast<double>(pow10(d.frac_digits));
    std::string_view prefix = rest.substr(0, rest.find('/'));
    rest.remove_prefix(prefix.size());
    if (prefix == "k" || prefix == "K") {
        value *= 1e3;
    } else if (prefix == "M") {
        value *= 1e6;
    } else if (!prefix.empty()) {
        return Error{in_quotes(text) + ": unknown rate prefix " + in_quotes(prefix) +
                     " (use k or M)"};
    }
    if (!rest.empty()) {
        std::string_view per = rest.substr(1);
        if (per == "s" || per == "sec") {
        } else if (per == "m" || per == "min") {
            value /= 60.0;
        } else if (per == "h") {
            value /= 3600.0;
        } else {
            return Error{in_quotes(text) + ": unknown rate period " + in_quotes(rest) +
                         " (use /s, /min or /h)"};
        }
    }
    if (!(value > 0.0))
        return Error{in_quotes(text) + ": rate must be > 0 (write \"unlimited\" for no limit)"};
    return Rate::every_second(value);
}

std::string format_duration(Duration d) {
    using Rep = Duration::rep;
    Rep ns = d.count();
    if (ns == 0) return "0s";
    if (ns < 0) {
        if (ns == std::numeric_limits<Rep>::min()) ++ns;  // cannot negate; one ns does not show
        return "-" + format_duration(Duration{-ns});
    }
    auto u = static_cast<std::uint64_t>(ns);
    if (u < kNsPerS) {
        // Below a second: exact to the microsecond ("1.5ms", "250us", "1.5us"); only a
        // sub-microsecond remainder above 1 ms is rounded to three significant digits.
        if (u < kNsPerUs) return std::to_string(u) + "ns";
        if (u < kNsPerMs) return decimal(u, kNsPerUs, 3) + "us";
        if (u % kNsPerUs == 0) return decimal(u / kNsPerUs, 1000, 3) + "ms";
        return sig3(static_cast<double>(u) / kNsPerMs) + "ms";
    }
    // One second and above: rounded to the millisecond, written as d/h/m/s components.
    std::uint64_t ms = (u + kNsPerMs / 2) / kNsPerMs;
    std::uint64_t secs = ms / 1000;
    std::uint64_t frac_ms = ms % 1000;
    std::string out;
    const std::array<std::pair<std::uint64_t, const char*>, 3> big{
        {{86400, "d"}, {3600, "h"}, {60, "m"}}};
    for (auto [unit, name] : big) {
        if (secs >= unit) {
            out += std::to_string(secs / unit) + name;
            secs %= unit;
        }
    }
    if (secs != 0 || frac_ms != 0) out += decimal(secs * 1000 + frac_ms, 1000, 3) + "s";
    return out;
}

std::string format_count(std::uint64_t n) {
    static constexpr const char* kPrefixes[] = {"", "k", "M", "G", "T", "P", "E"};
    if (n < 1000) return std::to_string(n);
    return scaled(static_cast<double>(n), 1000.0, kPrefixes, "");
}

std::string format_bytes(std::uint64_t n) {
    static constexpr const char* kPrefixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    if (n < 1024) return std::to_string(n) + "B";
    return scaled(static_cast<double>(n), 1024.0, kPrefixes, "B");
}

std::string format_rate(Rate r) {
    static constexpr const char* kPrefixes[] = {"", "k", "M", "G"};
    if (r.is_unlimited()) return "unlimited";
    // Below 0.001/s three significant digits per second would round to 0: count per hour.
    if (r.per_second < 0.001) return sig3(r.per_second * 3600.0) + "/h";
    return scaled(r.per_second, 1000.0, kPrefixes, "/s");
}

}  // namespace bts::util
