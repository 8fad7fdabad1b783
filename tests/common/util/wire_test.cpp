// Tests for the bus schema (src/common/wire.hpp): round trips of every message, forward
// compatibility, and rejection of malformed input without crashing (including fuzzing).
#include "common/wire.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <random>

namespace bts::wire {
namespace {

util::SparseHistogram sample_histogram(std::uint64_t seed) {
    util::Histogram h;
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 1000; ++i) h.record(rng() % 2'000'000);
    h.record(util::Histogram::kMaxValue + 5);
    return h.to_sparse();
}

StatsInterval sample_stats() {
    StatsInterval s;
    s.run_id = "run-7";
    s.beacon_id = "beacon-3";
    s.host = "load-1";
    s.seq = 42;
    s.interval_start_ms = 1'700'000'000'123;
    s.interval_ms = 1000;
    s.configured_rate = 2500.5;
    s.sent = 2500;
    s.accepted = 2400;
    s.rejected_by_class = {{"insufficient_fee", 60}, {"duplicate", 40}};
    s.late_sends = 7;
    s.dropped_sends = 1;
    s.max_send_lag_us = 12'345;
    s.connect_failures = 2;
    s.disconnects = 3;
    s.timeouts = 4;
    s.bad_replies = 5;
    s.in_flight = 17;
    s.included_txs = 2300;
    s.included_ops = 4600;
    s.expired_unincluded = 9;
    s.acceptance_from_intended = sample_histogram(1);
    s.acceptance_from_send = sample_histogram(2);
    s.inclusion = sample_histogram(3);
    s.host_cpu_pct = 55.5;
    s.proc_cpu_pct = 120.25;
    s.rss_bytes = 123'456'789;
    s.final = true;
    return s;
}

UptimeResult sample_uptime() {
    UptimeResult u;
    u.endpoint = "node-eu";
    u.url = "wss://node.example/ws";
    u.kind = "wss";
    u.status = std::string(uptime_status::kCertExpiring);
    u.unix_ms = 1'700'000'000'000;
    u.duration_us = 250'000;
    u.dns_us = 1000;
    u.connect_us = 20'000;
    u.tls_us = 40'000;
    u.ws_us = 10'000;
    u.rpc_us = 5000;
    u.head_block_num = 80'000'000;
    u.head_block_age_s = 2.5;
    u.chain_id = "4018d7844c78f6a6c41c6a552b898022310fc5dec06da467ee7905a8dad512c8";
    u.participation = 99.5;
    u.cert_not_after_unix = 1'710'000'000;
    u.cert_days_left = -3;
    u.cert_issuer = "R3";
    u.cert_subject = "CN=node.example";
    u.cert_name_matches = true;
    u.cert_wildcard = false;
    u.error = "certificate expires in 3 days";
    return u;
}

ClusterTotals sample_totals() {
    ClusterTotals c;
    c.run_id = "run-7";
    c.second_unix = 1'700'000'000;
    c.beacons = 4;
    c.configured_rate = 10'000;
    c.sent = 10'000;
    c.accepted = 9'900;
    c.rejected_by_class = {{"x", 100}};
    c.included_txs = 9'800;
    c.included_ops = 19'600;
    c.acceptance_p50_us = 1000;
    c.acceptance_p90_us = 2000;
    c.acceptance_p99_us = 5000;
    c.acceptance_max_us = 9000;
    c.inclusion_p50_us = 1'500'000;
    c.inclusion_p99_us = 3'000'000;
    return c;
}

std::vector<Message> all_samples() {
    return {
        BeaconHello{"beacon-3", "load-1", "0.1.0", 4242, {"transfer", "limit_order"}, {"eu", "fast"}},
        Heartbeat{"beacon-3", 99, 1'700'000'000'000, "running", "run-7", 2487.5},
        Command{"run-7", 5, "group:eu", "start", "[beacon]\nrate = \"2k\"\n"},
        CommandAck{"beacon-3", "run-7", 5, false, "node unreachable"},
        sample_stats(),
        RunEvent{"run-7", "bts-broker", -5, "warn", "beacon_lost", "beacon-2 missed 3 heartbeats"},
        sample_uptime(),
        sample_totals(),
        CtlRequest{7, "status", "{\"since\": 12}"},
        CtlReply{7, false, "unknown verb", "{\"code\": \"bad_request\"}"},
    };
}

// Builds frames by hand (wrong types, extra fields, other versions).
class Frame {
  public:
    Frame() : pk_(buf_) {}
    msgpack::packer<msgpack::sbuffer>& pk() { return pk_; }
    void envelope(std::string_view magic, std::uint64_t version, std::uint64_t type,
                  std::uint32_t body_fields) {
        pk_.pack_array(4);
        str(magic);
        pk_.pack_uint64(version);
        pk_.pack_uint64(type);
        pk_.pack_array(body_fields);
    }
    void str(std::string_view s) {
        pk_.pack_str(static_cast<std::uint32_t>(s.size()));
        pk_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
    }
    std::string bytes() const { return std::string(buf_.data(), buf_.size()); }

  private:
    msgpack::sbuffer buf_;
    msgpack::packer<msgpack::sbuffer> pk_;
};

TEST(Wire, EveryMessageRoundTrips) {
    for (const Message& m : all_samples()) {
        std::string bytes = encode(m);
        DecodeResult r = decode(bytes);
        ASSERT_TRUE(r.ok()) << type_name(m) << ": " << r.error();
        EXPECT_EQ(r->index(), m.index());
        EXPECT_TRUE(*r == m) << type_name(m);
        EXPECT_EQ(type_name(*r), type_name(m));
    }
    // The typed overloads give the same bytes as the variant one.
    EXPECT_EQ(encode(sample_stats()), encode(Message{sample_stats()}));
    EXPECT_EQ(encode(StatsInterval{}), encode(Message{StatsInterval{}}));
    EXPECT_TRUE(decode(encode(StatsInterval{})).ok());  // defaults and empty histograms too
}

TEST(Wire, TypeNamesAndNumbersAreFixed) {
    EXPECT_EQ(static_cast<int>(MsgType::kBeaconHello), 1);
    EXPECT_EQ(static_cast<int>(MsgType::kHeartbeat), 2);
    EXPECT_EQ(static_cast<int>(MsgType::kCommand), 3);
    EXPECT_EQ(static_cast<int>(MsgType::kCommandAck), 4);
    EXPECT_EQ(static_cast<int>(MsgType::kStatsInterval), 5);
    EXPECT_EQ(static_cast<int>(MsgType::kRunEvent), 6);
    EXPECT_EQ(static_cast<int>(MsgType::kUptimeResult), 7);
    EXPECT_EQ(static_cast<int>(MsgType::kClusterTotals), 8);
    EXPECT_EQ(static_cast<int>(MsgType::kCtlRequest), 9);
    EXPECT_EQ(static_cast<int>(MsgType::kCtlReply), 10);
    EXPECT_EQ(std::variant_size_v<Message>, 10u);
    EXPECT_EQ(type_name(MsgType::kCtlReply), "CtlReply");
    EXPECT_EQ(type_name(MsgType::kStatsInterval), "StatsInterval");
    EXPECT_EQ(type_name(static_cast<MsgType>(99)), "unknown");
    EXPECT_EQ(type_of(Message{RunEvent{}}), MsgType::kRunEvent);
}

TEST(Wire, KnownAnswerEnvelope) {
    // Pins the byte layout: [ "BTS1", 1, 4, [ "b", "r", 5, true, "" ] ].
    std::string bytes = encode(CommandAck{"b", "r", 5, true, ""});
    const std::string expected(
        "\x94\xa4"
        "BTS1"
        "\x01\x04\x95\xa1"
        "b"
        "\xa1"
        "r"
        "\x05\xc3\xa0",
        16);
    EXPECT_EQ(bytes, expected);
}

TEST(Wire, HistogramIsCompact) {
    StatsInterval s;
    util::Histogram h;
    for (std::uint64_t v = 1000; v < 2000; ++v) h.record(v);  // ~100 buckets
    s.acceptance_from_intended = h.to_sparse();
    std::size_t empty = encode(StatsInterval{}).size();
    std::size_t with = encode(s).size();
    EXPECT_LT(with - empty, 4 * s.acceptance_from_intended.buckets.size() + 20) << with - empty;
}

TEST(Wire, ExtraTrailingFieldsFromNewerSendersDecode) {
    Frame f;
    f.envelope("BTS1", 1, 2, 8);  // Heartbeat has 6 fields; a newer sender appended two
    f.str("beacon-1");
    f.pk().pack_uint64(7);
    f.pk().pack_int64(-1);
    f.str("idle");
    f.str("");
    f.pk().pack_double(1.5);
    f.str("future field");
    f.pk().pack_array(0);
    DecodeResult r = decode(f.bytes());
    ASSERT_TRUE(r.ok()) << r.error();
    const auto& hb = std::get<Heartbeat>(*r);
    EXPECT_EQ(hb.sender_id, "beacon-1");
    EXPECT_EQ(hb.seq, 7u);
    EXPECT_EQ(hb.unix_ms, -1);
    EXPECT_EQ(hb.achieved_rate, 1.5);
}

TEST(Wire, NumbersAreReadLeniently) {
    Frame f;
    f.envelope("BTS1", 1, 2, 6);
    f.str("b");
    f.pk().pack_uint8(7);   // any unsigned width
    f.pk().pack_uint64(5);  // non-negative signed field sent as unsigned
    f.str("idle");
    f.str("");
    f.pk().pack_int32(-3);  // double field sent as an integer
    DecodeResult r = decode(f.bytes());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(std::get<Heartbeat>(*r).achieved_rate, -3.0);
    Frame g;
    g.envelope("BTS1", 1, 2, 6);
    g.str("b");
    g.pk().pack_uint64(7);
    g.pk().pack_int64(5);
    g.str("idle");
    g.str("");
    g.pk().pack_float(2.5f);
    r = decode(g.bytes());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(std::get<Heartbeat>(*r).achieved_rate, 2.5);
}

TEST(Wire, MissingFieldsAreRejected) {
    Frame f;
    f.envelope("BTS1", 1, 2, 5);
    f.str("beacon-1");
    f.pk().pack_uint64(7);
    f.pk().pack_int64(1);
    f.str("idle");
    f.str("");
    DecodeResult r = decode(f.bytes());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "Heartbeat: body has 5 fields, expected at least 6");
}

TEST(Wire, EnvelopeErrors) {
    std::string good = encode(Heartbeat{"b", 1, 2, "idle", "", 0});
    {
        Frame f;
        f.envelope("BTS2", 1, 2, 0);
        EXPECT_EQ(decode(f.bytes()).error(), "bad magic (not a BTS1 message)");
    }
    {
        Frame f;
        f.envelope("BTS1", 2, 2, 0);
        EXPECT_EQ(decode(f.bytes()).error(), "unsupported version 2 (this build reads 1)");
    }
    {
        Frame f;
        f.envelope("BTS1", 1, 99, 0);
        EXPECT_EQ(decode(f.bytes()).error(), "unknown message type 99");
    }
    {
        Frame f;
        f.envelope("BTS1", 1, 0, 0);
        EXPECT_FALSE(decode(f.bytes()).ok());
    }
    {
        Frame f;
        f.pk().pack_array(3);
        f.str("BTS1");
        f.pk().pack_uint64(1);
        f.pk().pack_uint64(2);
        EXPECT_NE(decode(f.bytes()).error().find("not a BTS envelope"), std::string::npos);
    }
    {
        Frame f;
        f.pk().pack_array(4);
        f.str("BTS1");
        f.pk().pack_int64(-1);
        f.pk().pack_uint64(2);
        f.pk().pack_array(0);
        EXPECT_NE(decode(f.bytes()).error().find("version"), std::string::npos);
    }
    {
        Frame f;
        f.pk().pack_array(4);
        f.str("BTS1");
        f.pk().pack_uint64(1);
        f.pk().pack_uint64(2);
        f.pk().pack_map(0);
        EXPECT_EQ(decode(f.bytes()).error(), "Heartbeat: body is not an array");
    }
    EXPECT_EQ(decode("").error(), "empty message");
    EXPECT_EQ(decode(good + "x").error(), "trailing bytes after the message");
    EXPECT_FALSE(decode("hello").ok());
}

TEST(Wire, EveryTruncationIsAnError) {
    for (const Message& m : all_samples()) {
        std::string bytes = encode(m);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            DecodeResult r = decode(std::string_view(bytes).substr(0, n));
            ASSERT_FALSE(r.ok()) << type_name(m) << " truncated to " << n;
        }
    }
    EXPECT_EQ(decode(encode(sample_stats()).substr(0, 50)).error(), "truncated message");
}

TEST(Wire, WrongFieldTypesNameTheField) {
    {
        Frame f;
        f.envelope("BTS1", 1, 2, 6);
        f.str("b");
        f.str("not a number");  // seq
        f.pk().pack_int64(1);
        f.str("idle");
        f.str("");
        f.pk().pack_double(0);
        EXPECT_EQ(decode(f.bytes()).error(),
                  "Heartbeat.seq: expected an unsigned integer, got a string");
    }
    {
        Frame f;
        f.envelope("BTS1", 1, 4, 5);
        f.str("b");
        f.str("r");
        f.pk().pack_int64(-5);  // seq must be unsigned
        f.pk().pack_true();
        f.str("");
        EXPECT_EQ(decode(f.bytes()).error(),
                  "CommandAck.seq: expected an unsigned integer, got a negative integer");
    }
    {
        Frame f;
        f.envelope("BTS1", 1, 4, 5);
        f.str("b");
        f.str("r");
        f.pk().pack_uint64(1);
        f.pk().pack_uint64(1);  // ok must be a boolean
        f.str("");
        EXPECT_EQ(decode(f.bytes()).error(),
                  "CommandAck.ok: expected a boolean, got an unsigned integer");
    }
    {
        Frame f;
        f.envelope("BTS1", 1, 1, 6);
        f.str("b");
        f.str("h");
        f.str("v");
        f.pk().pack_uint64(1ull << 40);  // pid must fit 32 bits
        f.pk().pack_array(0);
        f.pk().pack_array(0);
        EXPECT_EQ(decode(f.bytes()).error(),
                  "BeaconHello.pid: value above 2^32-1, got an unsigned integer");
    }
    {
        Frame f;
        f.envelope("BTS1", 1, 1, 6);
        f.str("b");
        f.str("h");
        f.str("v");
        f.pk().pack_uint64(1);
        f.pk().pack_array(2);
        f.str("ok");
        f.pk().pack_nil();
        f.pk().pack_array(0);
        EXPECT_EQ(decode(f.bytes()).error(),
                  "BeaconHello.capabilities: [1]: expected a string, got nil");
    }
    {
        Frame f;
        f.envelope("BTS1", 1, 2, 6);
        f.str("b");
        f.pk().pack_uint64(1);
        f.pk().pack_uint64(1ull << 63);  // above int64
        f.str("idle");
        f.str("");
        f.pk().pack_double(0);
        EXPECT_NE(decode(f.bytes()).error().find("Heartbeat.unix_ms: value above 2^63-1"),
                  std::string::npos);
    }
}

// Replaces field `index` of an encoded StatsInterval's body by whatever `write` packs.
template <class F>
std::string stats_with_field(std::size_t index, F write) {
    std::string bytes = encode(sample_stats());
    msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
    const msgpack::object& body = oh.get().via.array.ptr[3];
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(4);
    pk.pack(std::string("BTS1"));
    pk.pack_uint64(1);
    pk.pack_uint64(5);
    pk.pack_array(body.via.array.size);
    for (std::uint32_t i = 0; i < body.via.array.size; ++i) {
        if (i == index) {
            write(pk);
        } else {
            pk.pack(body.via.array.ptr[i]);
        }
    }
    return std::string(buf.data(), buf.size());
}

TEST(Wire, MalformedMapsAndHistogramsAreRejected) {
    constexpr std::size_t kRejected = 9;
    constexpr std::size_t kAcceptance = 21;
    using Pk = msgpack::packer<msgpack::sbuffer>;
    // Sanity: re-packing the untouched field decodes.
    ASSERT_TRUE(decode(stats_with_field(0, [](Pk& pk) { pk.pack(std::string("run-7")); })).ok());

    auto err = [](const std::string& bytes) { return decode(bytes).error(); };
    EXPECT_EQ(err(stats_with_field(kRejected, [](Pk& pk) { pk.pack_array(0); })),
              "StatsInterval.rejected_by_class: expected a map of counts, got an array");
    EXPECT_EQ(err(stats_with_field(kRejected,
                                   [](Pk& pk) {
                                       pk.pack_map(1);
                                       pk.pack_uint64(1);
                                       pk.pack_uint64(1);
                                   })),
              "StatsInterval.rejected_by_class: key 0: expected a string, got an unsigned integer");
    EXPECT_EQ(err(stats_with_field(kRejected,
                                   [](Pk& pk) {
                                       pk.pack_map(2);
                                       pk.pack(std::string("a"));
                                       pk.pack_uint64(1);
                                       pk.pack(std::string("a"));
                                       pk.pack_uint64(2);
                                   })),
              "StatsInterval.rejected_by_class: duplicate key, got a map");
    // Histogram: bucket index beyond the layout, non-increasing, odd pair list, bad summary.
    auto hist = [](std::uint64_t min, std::uint64_t max, std::uint64_t sum,
                   std::vector<std::uint64_t> flat) {
        return [=](Pk& pk) {
            pk.pack_array(5);
            pk.pack_uint64(min);
            pk.pack_uint64(max);
            pk.pack_uint64(sum);
            pk.pack_uint64(0);
            pk.pack_array(static_cast<std::uint32_t>(flat.size()));
            for (auto v : flat) pk.pack_uint64(v);
        };
    };
    EXPECT_TRUE(decode(stats_with_field(kAcceptance, hist(5, 7, 12, {5, 1, 2, 1}))).ok());
    EXPECT_EQ(err(stats_with_field(kAcceptance, hist(5, 7, 12, {5, 1, 0, 1}))),
              "StatsInterval.acceptance_from_intended: histogram: bucket indices not increasing, "
              "got an array");
    EXPECT_NE(
        err(stats_with_field(kAcceptance, hist(5, 7, 12, {5, 1, ~0ull, 1}))).find("out of range"),
        std::string::npos);
    EXPECT_NE(err(stats_with_field(kAcceptance, hist(5, 7, 12, {5, 1, 2}))).find("pairs"),
              std::string::npos);
    EXPECT_EQ(err(stats_with_field(kAcceptance, hist(5, 8, 12, {5, 1, 2, 1}))),
              "StatsInterval.acceptance_from_intended: histogram: max is not in the last "
              "non-empty bucket");
    EXPECT_NE(err(stats_with_field(kAcceptance, hist(5, 7, 12, {5, 0}))).find("count 0"),
              std::string::npos);
    EXPECT_NE(err(stats_with_field(kAcceptance,
                                   [](Pk& pk) {
                                       pk.pack_array(4);
                                       for (int i = 0; i < 4; ++i) pk.pack_uint64(0);
                                   }))
                  .find("expected a histogram"),
              std::string::npos);
}

TEST(Wire, HostileSizesDoNotAllocate) {
    // An array header claiming 4 billion elements in a 10-byte frame.
    const std::string huge_array("\xdd\xff\xff\xff\xff\x00\x00\x00\x00\x00", 10);
    EXPECT_FALSE(decode(huge_array).ok());
    const std::string huge_map("\xdf\xff\xff\xff\xff\x00", 6);
    EXPECT_FALSE(decode(huge_map).ok());
    const std::string huge_str(
        "\xdb\xff\xff\xff\xff"
        "abc",
        8);
    EXPECT_FALSE(decode(huge_str).ok());
    // Deep nesting.
    std::string deep(100'000, '\x91');
    deep += '\x01';
    EXPECT_FALSE(decode(deep).ok());
}

TEST(Wire, FuzzRandomBuffersNeverCrash) {
    std::mt19937_64 rng(12345);
    std::size_t accepted = 0;
    for (int i = 0; i < 100'000; ++i) {
        std::string buf(rng() % 64, '\0');
        for (char& c : buf) c = static_cast<char>(rng());
        // Half of them start like an envelope so the fuzzer reaches the body decoders.
        if (i % 2 == 0 && buf.size() > 8) {
            std::string head(
                "\x94\xa4"
                "BTS1"
                "\x01",
                7);
            head += static_cast<char>(1 + rng() % 8);
            buf.replace(0, head.size(), head);
        }
        DecodeResult r = decode(buf);
        if (r.ok()) {
            ++accepted;
            (void)encode(*r);
        } else {
            ASSERT_FALSE(r.error().empty());
        }
    }
    EXPECT_LT(accepted, 1000u);
}

TEST(Wire, FuzzMutatedValidFramesNeverCrash) {
    std::mt19937_64 rng(999);
    std::vector<std::string> seeds;
    for (const Message& m : all_samples()) seeds.push_back(encode(m));
    for (int i = 0; i < 100'000; ++i) {
        std::string buf = seeds[rng() % seeds.size()];
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            std::size_t pos = rng() % buf.size();
            switch (rng() % 4) {
                case 0:
                    buf[pos] = static_cast<char>(rng());
                    break;
                case 1:
                    buf[pos] = static_cast<char>(buf[pos] ^ (1 << (rng() % 8)));
                    break;
                case 2:
                    buf.erase(pos, 1 + rng() % 8);
                    break;
                case 3:
                    buf.insert(pos, 1, static_cast<char>(rng()));
                    break;
            }
            if (buf.empty()) break;
        }
        DecodeResult r = decode(buf);
        if (r.ok()) {
            // Whatever decodes must re-encode and decode to the same message.
            DecodeResult again = decode(encode(*r));
            ASSERT_TRUE(again.ok()) << again.error();
            if (const auto* s = std::get_if<StatsInterval>(&*r)) {
                ASSERT_FALSE(s->acceptance_from_intended.validate().has_value());
            }
        } else {
            ASSERT_FALSE(r.error().empty());
        }
    }
}

TEST(Wire, ValidateCommand) {
    EXPECT_EQ(validate(Command{"r", 1, "all", "start", ""}), std::nullopt);
    EXPECT_EQ(validate(Command{"r", 1, "group:eu", "configure", "{}"}), std::nullopt);
    EXPECT_EQ(validate(Command{"r", 1, "beacon-1", "rate", "33.334"}), std::nullopt);
    EXPECT_TRUE(validate(Command{"r", 1, "all", "launch", ""}).has_value());
    EXPECT_TRUE(validate(Command{"r", 1, "", "stop", ""}).has_value());
    EXPECT_TRUE(validate(Command{"r", 1, "group:", "stop", ""}).has_value());
}

TEST(Wire, IdRule) {
    // The rule for beacon and run ids (issue 17: "eu/load 1" ran and every interval was dropped).
    EXPECT_EQ(validate_id("load-1"), std::nullopt);
    EXPECT_EQ(validate_id("eu.load_1:a@b"), std::nullopt);
    EXPECT_EQ(validate_id(std::string(kMaxIdBytes, 'x')), std::nullopt);
    EXPECT_EQ(validate_id(""), "empty");
    EXPECT_EQ(validate_id("eu/load 1"), "contains '/' at position 3");
    EXPECT_EQ(validate_id("load 1"), "contains a space at position 5");
    EXPECT_TRUE(validate_id(std::string(kMaxIdBytes + 1, 'x')).has_value());
    EXPECT_TRUE(validate_id("tab\there").has_value());
    EXPECT_TRUE(validate_id("caf\xc3\xa9").has_value());
    EXPECT_TRUE(validate_id(std::string("nul\0", 4)).has_value());
    EXPECT_TRUE(validate_id("del\x7f").has_value());
}

}  // namespace
}  // namespace bts::wire
