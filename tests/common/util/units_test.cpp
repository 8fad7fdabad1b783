// Tests for duration/size/rate parsing and formatting (src/common/util/units.hpp).
#include "common/util/units.hpp"

#include <gtest/gtest.h>

namespace bts::util {
namespace {

using namespace std::chrono_literals;

Duration dur(std::string_view text) {
    auto r = parse_duration(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.error();
    return r.value_or(Duration{-1});
}

std::uint64_t size(std::string_view text) {
    auto r = parse_size(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.error();
    return r.value_or(~0ull);
}

TEST(ParseDuration, Units) {
    EXPECT_EQ(dur("500ms"), 500ms);
    EXPECT_EQ(dur("30s"), 30s);
    EXPECT_EQ(dur("2m"), 2min);
    EXPECT_EQ(dur("2min"), 2min);
    EXPECT_EQ(dur("1h"), 1h);
    EXPECT_EQ(dur("250us"), 250us);
    EXPECT_EQ(dur("250\xC2\xB5s"), 250us);
    EXPECT_EQ(dur("7ns"), 7ns);
    EXPECT_EQ(dur("1d"), 24h);
}

TEST(ParseDuration, PlainNumberIsSeconds) {
    EXPECT_EQ(dur("10"), 10s);
    EXPECT_EQ(dur("1.5"), 1500ms);
    EXPECT_EQ(dur("0"), 0s);
}

TEST(ParseDuration, FractionsAndCompounds) {
    EXPECT_EQ(dur("0.5ms"), 500us);
    EXPECT_EQ(dur("0.3s"), 300ms);  // exact: no floating point
    EXPECT_EQ(dur("1h30m"), 90min);
    EXPECT_EQ(dur("1m30.5s"), 90500ms);
    EXPECT_EQ(dur("  30s\t"), 30s);
}

TEST(ParseDuration, ErrorsNameTheProblem) {
    auto bad_unit = parse_duration("30x");
    ASSERT_FALSE(bad_unit.ok());
    EXPECT_NE(bad_unit.error().find("\"30x\""), std::string::npos) << bad_unit.error();
    EXPECT_NE(bad_unit.error().find("unknown duration unit \"x\""), std::string::npos);
    EXPECT_FALSE(parse_duration("").ok());
    EXPECT_FALSE(parse_duration("abc").ok());
    EXPECT_NE(parse_duration("-5s").error().find("sign"), std::string::npos);
    EXPECT_NE(parse_duration("1h30").error().find("missing unit"), std::string::npos);
    EXPECT_FALSE(parse_duration("5 s").ok());
    EXPECT_FALSE(parse_duration("1.s").ok());
    EXPECT_FALSE(parse_duration("1e3s").ok());
    EXPECT_NE(parse_duration("300000d").error().find("too large"), std::string::npos);
    EXPECT_FALSE(parse_duration("99999999999999999999999999s").ok());
}

TEST(ParseSize, DecimalAndBinaryPrefixes) {
    EXPECT_EQ(size("2k"), 2000u);
    EXPECT_EQ(size("2K"), 2000u);
    EXPECT_EQ(size("2Ki"), 2048u);
    EXPECT_EQ(size("2KiB"), 2048u);
    EXPECT_EQ(size("2MiB"), 2097152u);
    EXPECT_EQ(size("1M"), 1000000u);
    EXPECT_EQ(size("1.5k"), 1500u);
    EXPECT_EQ(size("1.5Ki"), 1536u);
    EXPECT_EQ(size("0.1k"), 100u);
    EXPECT_EQ(size("3G"), 3000000000u);
    EXPECT_EQ(size("1TiB"), 1ull << 40);
    EXPECT_EQ(size("10"), 10u);
    EXPECT_EQ(size("10B"), 10u);
    EXPECT_EQ(size("18446744073709551615"), ~0ull);
    EXPECT_EQ(parse_count("2k").value(), 2000u);
}

TEST(ParseSize, Errors) {
    EXPECT_NE(parse_size("1.5").error().find("whole number"), std::string::npos);
    EXPECT_NE(parse_size("1.0001k").error().find("whole number"), std::string::npos);
    EXPECT_NE(parse_size("18446744073709551616").error().find("too large"), std::string::npos);
    EXPECT_NE(parse_size("2m").error().find("unknown size suffix \"m\""), std::string::npos);
    EXPECT_FALSE(parse_size("").ok());
    EXPECT_FALSE(parse_size("k").ok());
    EXPECT_FALSE(parse_size("-1").ok());
    EXPECT_FALSE(parse_size("2 k").ok());
}

TEST(ParseRate, UnlimitedAndCounts) {
    EXPECT_TRUE(parse_rate("unlimited")->is_unlimited());
    EXPECT_TRUE(parse_rate("Unlimited")->is_unlimited());
    EXPECT_DOUBLE_EQ(parse_rate("1000")->per_second, 1000.0);
    EXPECT_DOUBLE_EQ(parse_rate("2k")->per_second, 2000.0);
    EXPECT_DOUBLE_EQ(parse_rate("1.5k/s")->per_second, 1500.0);
    EXPECT_DOUBLE_EQ(parse_rate("500/s")->per_second, 500.0);
    EXPECT_DOUBLE_EQ(parse_rate("60/min")->per_second, 1.0);
    EXPECT_DOUBLE_EQ(parse_rate("3600/h")->per_second, 1.0);
    EXPECT_DOUBLE_EQ(parse_rate("0.5")->per_second, 0.5);
    EXPECT_DOUBLE_EQ(parse_rate("1M")->per_second, 1e6);
}

TEST(ParseRate, Errors) {
    EXPECT_NE(parse_rate("0").error().find("unlimited"), std::string::npos);
    EXPECT_FALSE(parse_rate("fast").ok());
    EXPECT_FALSE(parse_rate("2x").ok());
    EXPECT_FALSE(parse_rate("2k/day").ok());
    EXPECT_FALSE(parse_rate("-1").ok());
    EXPECT_FALSE(parse_rate("").ok());
}

TEST(Format, Durations) {
    EXPECT_EQ(format_duration(0s), "0s");
    EXPECT_EQ(format_duration(500ms), "500ms");
    EXPECT_EQ(format_duration(30s), "30s");
    EXPECT_EQ(format_duration(2min), "2m");
    EXPECT_EQ(format_duration(90s), "1m30s");
    EXPECT_EQ(format_duration(90min), "1h30m");
    EXPECT_EQ(format_duration(26h), "1d2h");
    EXPECT_EQ(format_duration(250us), "250us");
    EXPECT_EQ(format_duration(1500us), "1.5ms");
    EXPECT_EQ(format_duration(1500ms), "1.5s");
    EXPECT_EQ(format_duration(7ns), "7ns");
    EXPECT_EQ(format_duration(1500ns), "1.5us");
    EXPECT_EQ(format_duration(90500ms), "1m30.5s");
    EXPECT_EQ(format_duration(1234567ns), "1.23ms");
    EXPECT_EQ(format_duration(-2s), "-2s");
}

TEST(Format, DurationsParseBack) {
    for (Duration d :
         {Duration{0s}, Duration{500ms}, Duration{90s}, Duration{90min}, Duration{26h},
          Duration{250us}, Duration{1500us}, Duration{1500ms}, Duration{7ns}, Duration{61001ms},
          Duration{3723s}, Duration{1500ns}, Duration{1234us}, Duration{999999us}}) {
        std::string text = format_duration(d);
        auto back = parse_duration(text);
        ASSERT_TRUE(back.ok()) << text << ": " << back.error();
        EXPECT_EQ(*back, d) << text;
    }
}

TEST(Format, CountsBytesRates) {
    EXPECT_EQ(format_count(999), "999");
    EXPECT_EQ(format_count(2000), "2k");
    EXPECT_EQ(format_count(1500), "1.5k");
    EXPECT_EQ(format_count(1234567), "1.23M");
    EXPECT_EQ(format_count(999999), "1M");
    EXPECT_EQ(format_bytes(512), "512B");
    EXPECT_EQ(format_bytes(2048), "2KiB");
    EXPECT_EQ(format_bytes(2097152), "2MiB");
    EXPECT_EQ(format_bytes(1536 * 1024), "1.5MiB");
    EXPECT_EQ(format_rate(Rate::unlimited()), "unlimited");
    EXPECT_EQ(format_rate(Rate::every_second(2000)), "2k/s");
    EXPECT_EQ(format_rate(Rate::every_second(0.5)), "0.5/s");
    EXPECT_EQ(format_rate(Rate::every_second(250)), "250/s");
    for (std::uint64_t n : {999ull, 2000ull, 1500ull, 2500000ull})
        EXPECT_EQ(parse_size(format_count(n)).value(), n);
    EXPECT_EQ(parse_size(format_bytes(2097152)).value(), 2097152u);
    EXPECT_DOUBLE_EQ(parse_rate(format_rate(Rate::every_second(2000)))->per_second, 2000.0);
    EXPECT_DOUBLE_EQ(parse_rate(format_rate(Rate::every_second(0.0001)))->per_second * 3600, 0.36);
}

TEST(Result, ValueAndError) {
    Result<int> ok = 5;
    Result<int> bad = Error{"nope"};
    EXPECT_TRUE(ok.ok());
    EXPECT_EQ(*ok, 5);
    EXPECT_EQ(ok.error(), "");
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.error(), "nope");
    EXPECT_EQ(bad.value_or(7), 7);
    EXPECT_THROW((void)bad.value(), std::logic_error);
    Result<std::string> s = std::string("text");  // T = string is not confused with Error
    EXPECT_EQ(*s, "text");
}

}  // namespace
}  // namespace bts::util
