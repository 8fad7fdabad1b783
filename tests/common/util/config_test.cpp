// Tests for TOML loading, typed getters, unknown-key checks and overrides
// (src/common/util/config.hpp).
#include "common/util/config.hpp"
#include "common/util/zmq_endpoint.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace bts::util {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kSample = R"(
[beacon]
node = "ws://127.0.0.1:8090"
port = 8090
ratio = 0.25
threads = 4
enabled = true
interval = "500ms"
timeout = 30
grace = 1.5
buffer = "2MiB"
connections = 64
rate = "2k"
max_rate = 500
tags = ["a", "b"]

[beacon.tls]
verify = false

[[endpoints]]
name = "one"
url = "wss://one.example"

[[endpoints]]
name = "two"
url = 42
)";

TomlDoc sample() {
    return TomlDoc::parse(kSample, "beacon.toml");
}

// Runs f, expecting a ConfigError; returns its message.
template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ConfigError thrown";
    return {};
}

TEST(TomlDoc, TypedGetters) {
    TomlDoc doc = sample();
    EXPECT_EQ(doc.get_string("beacon.node", "x"), "ws://127.0.0.1:8090");
    EXPECT_EQ(doc.get_int("beacon.port", 0, 1, 65535), 8090);
    EXPECT_DOUBLE_EQ(doc.get_double("beacon.ratio", 0), 0.25);
    EXPECT_DOUBLE_EQ(doc.get_double("beacon.threads", 0), 4.0);  // integers read as doubles
    EXPECT_TRUE(doc.get_bool("beacon.enabled", false));
    EXPECT_EQ(doc.get_duration("beacon.interval", 0s), 500ms);
    EXPECT_EQ(doc.get_duration("beacon.timeout", 0s), 30s);  // integer = seconds
    EXPECT_EQ(doc.get_duration("beacon.grace", 0s), 1500ms);
    EXPECT_EQ(doc.get_size("beacon.buffer", 0), 2097152u);
    EXPECT_EQ(doc.get_size("beacon.connections", 0), 64u);
    EXPECT_DOUBLE_EQ(doc.get_rate("beacon.rate", Rate::unlimited()).per_second, 2000.0);
    EXPECT_DOUBLE_EQ(doc.get_rate("beacon.max_rate", Rate::unlimited()).per_second, 500.0);
    EXPECT_EQ(doc.get_string_array("beacon.tags"), (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(doc.get_bool("beacon.tls.verify", true));
    EXPECT_EQ(doc.require_string("beacon.node"), "ws://127.0.0.1:8090");
}

TEST(TomlDoc, AbsentKeysGiveDefaults) {
    TomlDoc doc = sample();
    EXPECT_EQ(doc.get_string("beacon.missing", "dflt"), "dflt");
    EXPECT_EQ(doc.get_int("nothing.here.at.all", 7), 7);
    EXPECT_EQ(doc.get_duration("beacon.nope", 3s), 3s);
    EXPECT_TRUE(doc.get_rate("beacon.nope", Rate::unlimited()).is_unlimited());
    EXPECT_EQ(doc.get_string_array("beacon.nope", {"x"}), std::vector<std::string>{"x"});
    EXPECT_TRUE(doc.get_table_array("nope").empty());
    TomlTable absent = doc.table("collector");
    EXPECT_FALSE(absent.exists());
    EXPECT_EQ(absent.get_int("port", 5), 5);
    EXPECT_TRUE(TomlDoc().table("x").keys().empty());
}

TEST(TomlDoc, ViewsOfTables) {
    TomlDoc doc = sample();
    TomlTable beacon = doc.table("beacon");
    EXPECT_TRUE(beacon.exists());
    EXPECT_EQ(beacon.path(), "beacon");
    EXPECT_EQ(beacon.get_int("port", 0), 8090);
    EXPECT_FALSE(beacon.table("tls").get_bool("verify", true));
    EXPECT_TRUE(beacon.contains("tls.verify"));
    EXPECT_EQ(beacon.keys().front(), "buffer");  // sorted
    auto endpoints = doc.get_table_array("endpoints");
    ASSERT_EQ(endpoints.size(), 2u);
    EXPECT_EQ(endpoints[0].get_string("name", ""), "one");
    EXPECT_EQ(endpoints[1].path(), "endpoints[1]");
    // Views keep the document alive.
    TomlTable kept = TomlDoc::parse("[a]\nb = 1\n", "t").table("a");
    EXPECT_EQ(kept.get_int("b", 0), 1);
}

TEST(TomlDoc, ErrorsNameFileKeyAndReason) {
    TomlDoc doc = sample();
    EXPECT_EQ(error_of([&] { (void)doc.get_int("beacon.node", 0); }),
              "beacon.toml: beacon.node: expected an integer, got a string (line 3)");
    EXPECT_EQ(error_of([&] { (void)doc.get_int("beacon.port", 0, 1, 1024); }),
              "beacon.toml: beacon.port: must be between 1 and 1024 (got 8090) (line 4)");
    EXPECT_EQ(error_of([&] { (void)doc.table("beacon").get_string("port", ""); }),
              "beacon.toml: beacon.port: expected a string, got an integer (line 4)");
    EXPECT_EQ(error_of([&] { (void)doc.get_duration("beacon.node", 0s); }),
              "beacon.toml: beacon.node: \"ws://127.0.0.1:8090\": expected a number (line 3)");
    auto bad_unit = TomlDoc::parse("[beacon]\ninterval = \"30x\"\n", "b.toml");
    EXPECT_EQ(error_of([&] { (void)bad_unit.get_duration("beacon.interval", 0s); }),
              "b.toml: beacon.interval: \"30x\": unknown duration unit \"x\" (use ns, us, ms, s, "
              "m, h, d) (line 2)");
    EXPECT_EQ(error_of([&] { (void)doc.get_duration("beacon.interval", 0s, 1s); }),
              "beacon.toml: beacon.interval: must be at least 1s (got 500ms) (line 8)");
    EXPECT_EQ(error_of([&] { (void)doc.get_table_array("endpoints")[1].get_string("url", ""); }),
              "beacon.toml: endpoints[1].url: expected a string, got an integer (line 26)");
    EXPECT_EQ(error_of([&] { (void)doc.get_string("beacon.port.x", ""); }),
              "beacon.toml: beacon.port: expected a table, got an integer (line 4)");
    EXPECT_EQ(error_of([&] { (void)doc.table("beacon.port"); }),
              "beacon.toml: beacon.port: expected a table, got an integer (line 4)");
    EXPECT_EQ(error_of([&] { (void)doc.require_string("beacon.host"); }),
              "beacon.toml: beacon.host: missing (required)");
    EXPECT_EQ(error_of([&] { (void)doc.get_string_array("beacon.port"); }),
              "beacon.toml: beacon.port: expected an array of strings, got an integer (line 4)");
    EXPECT_EQ(error_of([&] { (void)doc.get_table_array("beacon.tags"); }),
              "beacon.toml: beacon.tags: expected an array of tables ([[beacon.tags]]), got an "
              "array (line 15)");
    EXPECT_NE(error_of([&] { (void)doc.get_size("beacon.ratio", 0); }).find("got a float"),
              std::string::npos);
    EXPECT_NE(error_of([&] { (void)doc.get_bool("beacon.port", false); }).find("true or false"),
              std::string::npos);
    EXPECT_NE(error_of([&] { (void)doc.get_double("beacon.ratio", 0, 0.5, 1); }).find("between"),
              std::string::npos);
    auto bad_array = TomlDoc::parse("tags = [\"a\", 1]\n", "t.toml");
    EXPECT_EQ(error_of([&] { (void)bad_array.get_string_array("tags"); }),
              "t.toml: tags: element 1: expected a string, got an integer (line 1)");
    auto zero_rate = TomlDoc::parse("rate = 0\n", "t.toml");
    EXPECT_NE(
        error_of([&] { (void)zero_rate.get_rate("rate", Rate::unlimited()); }).find("unlimited"),
        std::string::npos);
}

TEST(TomlDoc, ConfigErrorParts) {
    ConfigError e("f.toml", "a.b", "bad");
    EXPECT_STREQ(e.what(), "f.toml: a.b: bad");
    EXPECT_EQ(e.source(), "f.toml");
    EXPECT_EQ(e.key(), "a.b");
    EXPECT_EQ(e.reason(), "bad");
    EXPECT_STREQ(ConfigError("", "a.b", "bad").what(), "a.b: bad");
    EXPECT_STREQ(ConfigError("", "a.b", "bad").with_source("x.toml").what(), "x.toml: a.b: bad");
}

TEST(TomlDoc, ParseErrorsHaveLineAndColumn) {
    std::string msg = error_of([] { (void)TomlDoc::parse("a = 1\nb = = 2\n", "bad.toml"); });
    EXPECT_EQ(msg.rfind("bad.toml: line 2, column ", 0), 0u) << msg;
    msg = error_of([] { (void)TomlDoc::parse("a = 1\na = 2\n", "dup.toml"); });
    EXPECT_EQ(msg.rfind("dup.toml: line 2", 0), 0u) << msg;
}

TEST(TomlDoc, LoadFromFile) {
    auto dir =
        std::filesystem::temp_directory_path() / ("bts_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = dir / "devnet.toml";
    std::ofstream(path) << "[devnet]\nport = 9000\n";
    TomlDoc doc = load_toml(path);
    EXPECT_EQ(doc.source(), path.string());
    EXPECT_EQ(doc.get_int("devnet.port", 0), 9000);
    std::string msg = error_of([&] { (void)load_toml(dir / "missing.toml"); });
    EXPECT_EQ(msg, (dir / "missing.toml").string() + ": cannot read: No such file or directory");
    std::filesystem::remove_all(dir);
}

TEST(TomlDoc, RejectUnknownKeys) {
    TomlDoc doc =
        TomlDoc::parse("[beacon]\nnode = \"x\"\nrat = 5\n[log]\nlevel = \"info\"\n", "b.toml");
    EXPECT_NO_THROW(doc.reject_unknown_keys({"beacon", "log"}));
    EXPECT_EQ(error_of([&] {
                  doc.reject_unknown_keys("beacon", {"node", "rate"});
              }),
              "b.toml: beacon.rat: unknown key (did you mean \"rate\"?)");
    EXPECT_EQ(error_of([&] {
                  doc.table("beacon").reject_unknown_keys({"node", "threads"});
              }),
              "b.toml: beacon.rat: unknown key (allowed: node, threads)");
    EXPECT_EQ(error_of([&] { doc.reject_unknown_keys({"beacon"}); }),
              "b.toml: log: unknown key (allowed: beacon)");
    EXPECT_NO_THROW(doc.reject_unknown_keys("collector", {"x"}));  // absent table: nothing to check
}

TEST(TomlDoc, OverridesAreTypedAndAttributed) {
    TomlDoc doc = sample();
    doc.set("beacon.port", "9001", "--set beacon.port=9001");
    doc.set("beacon.node", "ws://10.0.0.1:8090", "--node ws://10.0.0.1:8090");
    doc.set("beacon.enabled", "false", "--set beacon.enabled=false");
    doc.set("beacon.rate", "5k", "--rate 5k");
    doc.set("beacon.tags", "[\"x\", \"y\", \"z\"]", "--set beacon.tags=...");
    doc.set("collector.bind.port", "7000", "--set collector.bind.port=7000");  // creates tables
    doc.set("run.id", "42", "--run-id 42");
    doc.set("beacon.threads", "\"many\"", "--set beacon.threads=\"many\"");
    EXPECT_EQ(doc.get_int("beacon.port", 0), 9001);
    EXPECT_EQ(doc.get_string("beacon.node", ""), "ws://10.0.0.1:8090");
    EXPECT_FALSE(doc.get_bool("beacon.enabled", true));
    EXPECT_DOUBLE_EQ(doc.get_rate("beacon.rate", Rate::unlimited()).per_second, 5000.0);
    EXPECT_EQ(doc.get_string_array("beacon.tags").size(), 3u);
    EXPECT_EQ(doc.get_int("collector.bind.port", 0), 7000);
    EXPECT_EQ(doc.get_string("run.id", ""), "42");  // text as typed, though it read as a number
    EXPECT_EQ(doc.get_int("run.id", 0), 42);
    EXPECT_EQ(doc.source_of("beacon.port"), "--set beacon.port=9001");
    EXPECT_EQ(doc.source_of("beacon.ratio"), "beacon.toml");
    EXPECT_EQ(error_of([&] { (void)doc.get_int("beacon.threads", 0); }),
              "--set beacon.threads=\"many\": beacon.threads: expected an integer, got a string");
    EXPECT_EQ(error_of([&] { doc.set("beacon.port.x", "1", "--set beacon.port.x=1"); }),
              "--set beacon.port.x=1: beacon.port.x: cannot set: \"beacon.port\" is an integer, "
              "not a table");
    EXPECT_EQ(error_of([&] { doc.set("beacon..x", "1", "--set beacon..x=1"); }),
              "--set beacon..x=1: beacon..x: invalid key");
    // Text that is not a single TOML value stays a string.
    doc.set("a", "1\nb = 2", "--set");
    EXPECT_EQ(doc.get_string("a", ""), "1\nb = 2");
    EXPECT_FALSE(doc.contains("b"));
}

struct SampleConfig {
    std::int64_t port = 80;
    Duration interval = 1s;

    static SampleConfig from_toml(const TomlDoc& doc) {
        doc.reject_unknown_keys({"svc", "log"});
        TomlTable t = doc.table("svc");
        t.reject_unknown_keys({"port", "interval"});
        SampleConfig c;
        c.port = t.get_int("port", c.port, 1, 65535);
        c.interval = t.get_duration("interval", c.interval);
        return c;
    }
    void validate() const {
        check_config(interval >= 100ms, "svc.interval", "must be at least 100ms");
    }
};

TEST(BuildConfig, ValidateErrorsGetTheSource) {
    auto good = build_config<SampleConfig>(TomlDoc::parse("[svc]\nport = 81\n", "svc.toml"));
    EXPECT_EQ(good.port, 81);
    EXPECT_EQ(good.interval, 1s);
    EXPECT_EQ(error_of([] {
                  (void)build_config<SampleConfig>(
                      TomlDoc::parse("[svc]\ninterval = \"10ms\"\n", "svc.toml"));
              }),
              "svc.toml: svc.interval: must be at least 100ms");
    TomlDoc overridden = TomlDoc::parse("[svc]\n", "svc.toml");
    overridden.set("svc.interval", "5ms", "--interval 5ms");
    EXPECT_EQ(error_of([&] { (void)build_config<SampleConfig>(overridden); }),
              "--interval 5ms: svc.interval: must be at least 100ms");
    EXPECT_EQ(error_of([] {
                  (void)build_config<SampleConfig>(TomlDoc::parse("[svc]\nprot = 1\n", "svc.toml"));
              }),
              "svc.toml: svc.prot: unknown key (did you mean \"port\"?)");
}

TEST(ZmqEndpoint, FormIsCheckedAtConfigTime) {
    // issue 17: listen = "-5s" was blamed on collector.curve.secret_cert, and uptime's
    // pub = "-5s" passed --check, then bind() failed with "Invalid argument".
    for (const char* ok : {"tcp://127.0.0.1:5601", "tcp://*:5601", "tcp://*:*", "tcp://[::1]:5601",
                           "tcp://collector.example:5601", "tcp://127.0.0.1:0", "ipc:///run/bts/x.sock",
                           "inproc://stats"}) {
        EXPECT_EQ(zmq_endpoint_error(ok), std::nullopt) << ok;
    }
    for (const char* bad : {"-5s", "", "tcp://", "tcp://host", "tcp://host:", "tcp://host:99999",
                            "tcp://host:5x", "tcp://:5601", "udp://host:1", "ipc://", "inproc://",
                            "tcp://host :1", "http://host:80"}) {
        EXPECT_NE(zmq_endpoint_error(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(*zmq_endpoint_error("-5s"),
              "\"-5s\": not a ZeroMQ endpoint (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)");
}

}  // namespace
}  // namespace bts::util
