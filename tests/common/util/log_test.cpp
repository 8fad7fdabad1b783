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

}  // namespace
}  // namespace bts::util
