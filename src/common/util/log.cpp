// Logger setup, rate-limited warnings and secret redaction.
#include "common/util/log.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

namespace bts::util {

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    using L = spdlog::level::level_enum;
    if (lower == "trace") return L::trace;
    if (lower == "debug") return L::debug;
    if (lower == "info") return L::info;
    if (lower == "warn" || lower == "warning") return L::warn;
    if (lower == "error" || lower == "err") return L::err;
    if (lower == "critical") return L::critical;
    if (lower == "off") return L::off;
    return std::nullopt;
}

std::shared_ptr<spdlog::logger> setup_logging(std::string_view program,
                                              std::string_view level) noexcept {
    try {
        auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        auto logger = std::make_shared<spdlog::logger>(std::string(program), std::move(sink));
        // Wall-clock time with milliseconds: logs are correlated with other hosts' logs.
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
        auto parsed = parse_log_level(level);
        logger->set_level(parsed.value_or(spdlog::level::info));
        logger->flush_on(spdlog::level::warn);
        spdlog::set_default_logger(logger);
        if (!parsed) logger->warn("unknown log level \"{}\", using info", redact(level));
        return logger;
    } catch (...) {
        // Out of memory or similar: logging must not stop the program. Keep whatever logger
        // exists, or a silent one.
        try {
            if (auto existing = spdlog::default_logger()) return existing;
            return std::make_shared<spdlog::logger>(
                "null", std::make_shared<spdlog::sinks::null_sink_mt>());
        } catch (...) {
            return nullptr;
        }
    }
}

RateLimitedWarn::RateLimitedWarn(spdlog::logger& logger, std::size_t burst,
                                 std::chrono::steady_clock::duration interval)
    : logger_(&logger), burst_(burst), interval_(interval) {}

std::optional<std::uint64_t> RateLimitedWarn::admit(std::string_view key,
                                                    std::chrono::steady_clock::time_point now) {
    static constexpr std::string_view kOther = "<other>";
    auto it = keys_.find(std::string(key));
    if (it == keys_.end()) {
        if (keys_.size() >= kMaxKeys) key = kOther;
        it = keys_.try_emplace(std::string(key), KeyState{now, 0, 0}).first;
    }
    KeyState& state = it->second;
    if (now - state.window_start >= interval_) {
        state.window_start = now;
        state.used = 0;
    }
    if (state.used >= burst_) {
        ++state.suppressed;
        ++suppressed_total_;
        return std::nullopt;
    }
    ++state.used;
    ++logged_total_;
    return std::exchange(state.suppressed, 0);
}

namespace {

bool is_base58(char c) {
    return (c >= '1' && c <= '9') || (c >= 'A' && c <= 'H') || (c >= 'J' && c <= 'N') ||
           (c >= 'P' && c <= 'Z') || (c >= 'a' && c <= 'k') || (c >= 'm' && c <= 'z');
}

bool is_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_z85(char c) {
    static constexpr std::string_view kPunct = ".-:+=^!/*?&<>()[]{}@%$#";
    return is_alnum(c) || kPunct.find(c) != std::string_view::npos;
}

bool mixed_case(std::string_view s) {
    bool upper = false;
    bool lower = false;
    for (char c : s) {
        upper = upper || (c >= 'A' && c <= 'Z');
        lower = lower || (c >= 'a' && c <= 'z');
    }
    return upper && lower;
}

// Calls f(begin, end) for each maximal run of characters satisfying pred.
template <class Pred, class F>
void for_each_run(std::string_view s, Pred pred, F f) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (!pred(s[i])) {
            ++i;
            continue;
        }
        std::size_t start = i;
        while (i < s.size() && pred(s[i])) ++i;
        f(start, i);
    }
}

// The user info of every "scheme://user:pass@host" in `text`: from after "://" to the last '@'
// before the authority ends (at '/', '?', '#', whitespace, a quote or a bracket).
void add_userinfo_ranges(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& ranges) {
    static constexpr std::string_view kAuthorityEnd = "/?#'\"<>()[]{}` \t\r\n";
    std::size_t from = 0;
    while (true) {
        const auto sep = text.find("://", from);
        if (sep == std::string_view::npos) return;
        const std::size_t begin = sep + 3;
        std::size_t end = begin;
        std::size_t at = std::string_view::npos;
        while (end < text.size() && kAuthorityEnd.find(text[end]) == std::string_view::npos &&
               static_cast<unsigned char>(text[end]) >= 0x20) {
            if (text[end] == '@') at = end;
            ++end;
        }
        if (at != std::string_view::npos && at > begin) ranges.emplace_back(begin, at);
        from = end > begin ? end : begin;
    }
}

}  // namespace

std::string redact_url(std::string_view url) {
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    add_userinfo_ranges(url, ranges);
    if (ranges.empty()) return std::string(url);
    std::string out;
    std::size_t pos = 0;
    for (auto [b, e] : ranges) {
        out.append(url.substr(pos, b - pos));
        out += "<redacted>";
        pos = e;
    }
    out.append(url.substr(pos));
    return out;
}

std::string printable(std::string_view text, std::size_t max) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::min(text.size(), max) + 8);
    std::size_t i = 0;
    while (i < text.size()) {
        if (out.size() >= max) {
            out += "…";
            break;
        }
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // A complete, valid UTF-8 sequence passes as is (no overlongs, no surrogates).
        std::size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len > 0 && i + len <= text.size()) {
            bool ok = true;
            for (std::size_t k = 1; k < len; ++k) ok = ok && (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            if (c == 0xE0 && c1 < 0xA0) ok = false;
            if (c == 0xED && c1 > 0x9F) ok = false;
            if (c == 0xF0 && c1 < 0x90) ok = false;
            if (c == 0xF4 && c1 > 0x8F) ok = false;
            if (ok) {
                out.append(text.substr(i, len));
                i += len;
                continue;
            }
        }
        switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                out += "\\x";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
        }
        ++i;
    }
    return out;
}

std::string redact(std::string_view text) {
    constexpr std::size_t kWifLength = 51;
    constexpr std::size_t kCompressedWifLength = 52;
    constexpr std::size_t kZ85SecretLength = 40;
    // Ranges are found on the original text and replaced in one pass, so the marker itself
    // ('<' and '>' are Z85 characters) can never join a neighbouring match.
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for_each_run(text, is_alnum, [&](std::size_t b, std::size_t e) {
        std::string_view run = text.substr(b, e - b);
        bool wif = (run.size() == kWifLength && run[0] == '5') ||
                   (run.size() == kCompressedWifLength && (run[0] == 'K' || run[0] == 'L'));
        if (wif && std::all_of(run.begin(), run.end(), is_base58)) ranges.emplace_back(b, e);
    });
    for_each_run(text, is_z85, [&](std::size_t b, std::size_t e) {
        // Z85 includes punctuation, so a key often shares its run with neighbours: "key=<k>",
        // "(<k>)", "<k>." Accept a 40-character window that starts the run or follows an
        // assignment/opening character, and ends the run or precedes closing punctuation.
        static constexpr std::string_view kBefore = "=:([{<";
        static constexpr std::string_view kAfter = ".:)]}>!?";
        for (std::size_t i = b; i + kZ85SecretLength <= e; ++i) {
            std::size_t end = i + kZ85SecretLength;
            bool starts = i == b || kBefore.find(text[i - 1]) != std::string_view::npos;
            bool ends = end == e || kAfter.find(text[end]) != std::string_view::npos;
            if (starts && ends && mixed_case(text.substr(i, kZ85SecretLength))) {
                ranges.emplace_back(i, end);
                i = end - 1;  // continue after this match
            }
        }
    });
    add_userinfo_ranges(text, ranges);
    if (ranges.empty()) return std::string(text);
    std::sort(ranges.begin(), ranges.end());
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    for (auto [b, e] : ranges) {
        if (b < pos) {  // overlaps the previous replacement: extend it
            pos = std::max(pos, e);
            continue;
        }
        out.append(text.substr(pos, b - pos));
        out += "<redacted>";
        pos = e;
    }
    out.append(text.substr(pos));
    return out;
}

}  // namespace bts::util
