// Tests for logging helpers (src/common/util/log.hpp): level parsing, logger setup, rate-limited
// warnings and secret redaction.
#include "common/util/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace bts::util {
namespace {

using namespace std::chrono_literals;

TEST(Log, ParseLevel) {
    EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
    EXPECT_EQ(parse_log_level("WARN"), spdlog::level::warn);
    EXPECT_EQ(parse_log_level("warning"), spdlog::level::warn);
    EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
    EXPECT_EQ(parse_log_level("loud"), std::nullopt);
    EXPECT_EQ(parse_log_level(""), std::nullopt);
}

TEST(Log, SetupNeverThrowsAndSetsLevel) {
    auto log = setup_logging("bts-test", "debug");
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->level(), spdlog::level::debug);
    EXPECT_EQ(spdlog::default_logger(), log);
    auto fallback = setup_logging("bts-test", "nonsense");
    ASSERT_NE(fallback, nullptr);
    EXPECT_EQ(fallback->level(), spdlog::level::info);
}

TEST(RateLimitedWarn, BudgetPerKeyPerInterval) {
    std::ostringstream out;
    spdlog::logger logger("t", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    RateLimitedWarn limiter(logger, 3, 10s);
    auto t0 = std::chrono::steady_clock::time_point{} + 100s;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.admit("peer-a", t0), 0u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.admit("peer-a", t0 + 1s), std::nullopt);
    EXPECT_EQ(limiter.admit("peer-b", t0 + 1s), 0u);  // keys are independent
    EXPECT_EQ(limiter.admit("peer-a", t0 + 9s), std::nullopt);
    EXPECT_EQ(limiter.admit("peer-a", t0 + 10s), 6u);  // new interval: reports what it hid
    EXPECT_EQ(limiter.admit("peer-a", t0 + 10s), 0u);
    EXPECT_EQ(limiter.suppressed_total(), 6u);
    EXPECT_EQ(limiter.logged_total(), 6u);
}

TEST(RateLimitedWarn, KeysAreBounded) {
    std::ostringstream out;
    spdlog::logger logger("t", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    RateLimitedWarn limiter(logger, 1, 10s);
    auto t0 = std::chrono::steady_clock::time_point{} + 100s;
    for (std::size_t i = 0; i < RateLimitedWarn::kMaxKeys; ++i)
        EXPECT_TRUE(limiter.admit("k" + std::to_string(i), t0).has_value());
    // Past the cap, unknown keys share one budget.
    EXPECT_TRUE(limiter.admit("new-1", t0).has_value());
    EXPECT_FALSE(limiter.admit("new-2", t0).has_value());
    EXPECT_FALSE(limiter.admit("new-3", t0).has_value());
}

TEST(RateLimitedWarn, WarnLogsAndAppendsSuppressedCount) {
    std::ostringstream out;
    spdlog::logger logger("t", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    logger.set_pattern("%l %v");
    RateLimitedWarn limiter(logger, 2, 1h);
    EXPECT_TRUE(limiter.warn("k", "bad frame from {}: {}", "peer", 7));
    EXPECT_TRUE(limiter.warn("k", "bad frame from {}: {}", "peer", 8));
    EXPECT_FALSE(limiter.warn("k", "bad frame from {}: {}", "peer", 9));
    EXPECT_EQ(out.str(), "warning bad frame from peer: 7\nwarning bad frame from peer: 8\n");
    RateLimitedWarn fast(logger, 1, 0s);  // every call is a new interval
    out.str("");
    EXPECT_TRUE(fast.warn("k", "x"));
    EXPECT_TRUE(fast.warn("k", "y"));
    EXPECT_EQ(out.str(), "warning x\nwarning y\n");
}

TEST(Redact, WifKeys) {
    // The well-known example WIF from the Bitcoin wiki (not a live key).
    const std::string wif = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ";
    EXPECT_EQ(redact("key " + wif + " leaked"), "key <redacted> leaked");
    EXPECT_EQ(redact("wif=" + wif), "wif=<redacted>");
    EXPECT_EQ(redact("[\"" + wif + "\"]"), "[\"<redacted>\"]");
    const std::string compressed = "KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617";
    EXPECT_EQ(redact(compressed), "<redacted>");
    // Same length but not base58 ('0'), or not starting with '5': left alone.
    std::string not_base58 = wif;
    not_base58[10] = '0';
    EXPECT_EQ(redact(not_base58), not_base58);
    std::string six = "6" + wif.substr(1);
    EXPECT_EQ(redact(six), six);
    EXPECT_EQ(redact(wif + "x"), wif + "x");  // part of a longer word
}

TEST(Redact, Z85Secrets) {
    // libzmq's documented example CURVE secret key.
    const std::string secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
    ASSERT_EQ(secret.size(), 40u);
    EXPECT_EQ(redact("secret " + secret + " end"), "secret <redacted> end");
    EXPECT_EQ(redact("curve_secret=" + secret), "curve_secret=<redacted>");
    EXPECT_EQ(redact("\"" + secret + "\""), "\"<redacted>\"");
    EXPECT_EQ(redact("the key is " + secret + "."), "the key is <redacted>.");
    EXPECT_EQ(redact("key:" + secret + ", next"), "key:<redacted>, next");
    EXPECT_EQ(redact("(" + secret + ")"), "(<redacted>)");
    EXPECT_EQ(redact(secret + " " + secret), "<redacted> <redacted>");
    // 40 lower-case hex digits (a SHA-1) and ordinary text are not secrets.
    const std::string sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    EXPECT_EQ(redact(sha1), sha1);
    const std::string url = "tcp://collector.example.org:5557/stats/x";
    EXPECT_EQ(redact(url), url);
    EXPECT_EQ(redact("plain message, nothing to hide"), "plain message, nothing to hide");
    EXPECT_EQ(redact(""), "");
}

TEST(Redact, UrlUserInfo) {
    // Credentials written into URLs never pass (issue 17): the URL keeps its scheme and host.
    EXPECT_EQ(redact_url("https://user:pass@es.example:9200/_bulk"), "https://<redacted>@es.example:9200/_bulk");
    EXPECT_EQ(redact_url("ws://u:p@node.example/ws"), "ws://<redacted>@node.example/ws");
    EXPECT_EQ(redact_url("wss://token@[::1]:8090"), "wss://<redacted>@[::1]:8090");
    EXPECT_EQ(redact_url("wss://a@b:c@host/x?y=1"), "wss://<redacted>@host/x?y=1");  // the last '@' ends it
    EXPECT_EQ(redact_url("wss://node.example/path@1"), "wss://node.example/path@1");  // '@' in the path
    EXPECT_EQ(redact_url("tcp://127.0.0.1:5601"), "tcp://127.0.0.1:5601");
    EXPECT_EQ(redact_url("not a url"), "not a url");
    EXPECT_EQ(redact_url(""), "");
    // Inside free text (errors a beacon forwards to the broker, config errors).
    EXPECT_EQ(redact("connect to wss://alice:s3cret@node.example:443/ws failed: refused"),
              "connect to wss://<redacted>@node.example:443/ws failed: refused");
    EXPECT_EQ(redact("bad URL 'https://u:p@h:99999': invalid port"), "bad URL 'https://<redacted>@h:99999': invalid port");
    EXPECT_EQ(redact("two: ws://a:b@x and http://c:d@y/"), "two: ws://<redacted>@x and http://<redacted>@y/");
    EXPECT_EQ(redact("mail alice@example.org about ws://x/"), "mail alice@example.org about ws://x/");
}

TEST(Printable, EscapesControlCharactersAndBadUtf8) {
    EXPECT_EQ(printable("plain"), "plain");
    EXPECT_EQ(printable("line1\nline2\r\tend"), "line1\\nline2\\r\\tend");
    EXPECT_EQ(printable(std::string("a\0b\x1b[31mred", 11)), "a\\x00b\\x1b[31mred");
    EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // valid UTF-8 stays
    EXPECT_EQ(printable("bad \xc3 \xff \xed\xa0\x80"), "bad \\xc3 \\xff \\xed\\xa0\\x80");
    EXPECT_EQ(printable("\x7f"), "\\x7f");
    EXPECT_EQ(printable(std::string(500, 'x'), 10), std::string(10, 'x') + "…");
    const std::string out = printable(std::string(1000, '\n'), 50);
    EXPECT_LE(out.size(), 56u);
    EXPECT_EQ(out.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace bts::util
