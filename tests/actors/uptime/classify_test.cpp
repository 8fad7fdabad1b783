// Unit tests of the uptime rules: classify() precedence, certificate and participation helpers,
// the fork tracker, and config parsing/validation.
#include "actors/uptime/classify.hpp"
#include "actors/uptime/probe.hpp"
#include "actors/uptime/uptime.hpp"
#include "common/util/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace bts::uptime {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kChain(64, 'a');

Observation healthy_api() {
    Observation o;
    o.api = true;
    o.chain_id = kChain;
    o.expected_chain_id = kChain;
    o.head_known = true;
    o.head_age_s = 1.5;
    o.participation_known = true;
    o.participation = 100.0;
    return o;
}

Observation with_cert(Observation o, std::int64_t days) {
    o.cert_seen = true;
    o.cert_not_after = kNow + days * 86400 + 100;
    o.cert_name_matches = true;
    o.cert_trusted = true;
    o.cert_issuer = "CN=Premium CA,O=Example";
    return o;
}

TEST(Classify, HealthyIsUp) {
    const Verdict v = classify(healthy_api(), {}, kNow);
    EXPECT_EQ(v.status, Status::up);
    EXPECT_EQ(v.error, "");
    EXPECT_EQ(classify(with_cert(healthy_api(), 90), {}, kNow).status, Status::up);
}

TEST(Classify, FailuresComeFirst) {
    Observation o = healthy_api();
    o.failure = Failure::timeout;
    o.failure_text = "no answer";
    EXPECT_EQ(classify(o, {}, kNow).status, Status::timeout);
    EXPECT_EQ(classify(o, {}, kNow).error, "no answer");
    o.failure = Failure::connect;
    EXPECT_EQ(classify(o, {}, kNow).status, Status::down);
    o.failure = Failure::protocol;
    o.chain_id = "other";  // never reached
    EXPECT_EQ(classify(o, {}, kNow).status, Status::down);
}

TEST(Classify, WrongChainBeatsStaleAndCertificates) {
    Observation o = with_cert(healthy_api(), 2);
    o.chain_id = std::string(64, 'b');
    o.head_age_s = 1e6;
    const Verdict v = classify(o, {}, kNow);
    EXPECT_EQ(v.status, Status::wrong_chain);
    EXPECT_NE(v.error.find("expected"), std::string::npos);
    o.expected_chain_id.clear();  // not checked
    EXPECT_EQ(classify(o, {}, kNow).status, Status::stale);
}

TEST(Classify, StaleByHeadAgeAndParticipation) {
    Observation o = healthy_api();
    Thresholds t;
    t.stale_after = std::chrono::seconds(10);
    o.head_age_s = 10.5;
    EXPECT_EQ(classify(o, t, kNow).status, Status::stale);
    o.head_age_s = 9.0;
    EXPECT_EQ(classify(o, t, kNow).status, Status::up);
    o.participation = 40.0;
    EXPECT_EQ(classify(o, t, kNow).status, Status::up);  // check off by default
    t.min_participation = 50.0;
    EXPECT_EQ(classify(o, t, kNow).status, Status::stale);
    EXPECT_NE(classify(o, t, kNow).error.find("participation"), std::string::npos);
}

TEST(Classify, CertificateRules) {
    Thresholds t;  // warn below 14 days
    EXPECT_EQ(classify(with_cert(healthy_api(), 3), t, kNow).status, Status::cert_expiring);
    EXPECT_EQ(classify(with_cert(healthy_api(), 14), t, kNow).status, Status::up);

    Observation o = with_cert(healthy_api(), 90);
    o.cert_name_matches = false;
    EXPECT_EQ(classify(o, t, kNow).status, Status::cert_mismatch);

    o = with_cert(healthy_api(), 90);
    o.cert_trusted = false;
    o.cert_verify_error = "self-signed certificate";
    EXPECT_EQ(classify(o, t, kNow).status, Status::cert_mismatch);
    EXPECT_NE(classify(o, t, kNow).error.find("self-signed"), std::string::npos);
    t.require_trusted_cert = false;
    EXPECT_EQ(classify(o, t, kNow).status, Status::up);

    o = with_cert(healthy_api(), 90);
    o.cert_wildcard = true;
    EXPECT_EQ(classify(o, Thresholds{}, kNow).status, Status::up);
    Thresholds no_wild;
    no_wild.allow_wildcard = false;
    EXPECT_EQ(classify(o, no_wild, kNow).status, Status::cert_mismatch);

    Thresholds issuer;
    issuer.expect_issuer = "Sectigo";
    EXPECT_EQ(classify(with_cert(healthy_api(), 90), issuer, kNow).status, Status::cert_mismatch);
    issuer.expect_issuer = "Premium CA";
    EXPECT_EQ(classify(with_cert(healthy_api(), 90), issuer, kNow).status, Status::up);

    // Expired outranks a fork and staleness; a soon-expiring certificate does not.
    o = with_cert(healthy_api(), -2);
    o.fork = "block 5 differs";
    EXPECT_EQ(classify(o, Thresholds{}, kNow).status, Status::cert_expiring);
    EXPECT_NE(classify(o, Thresholds{}, kNow).error.find("expired"), std::string::npos);
    o = with_cert(healthy_api(), 3);
    o.fork = "block 5 differs";
    EXPECT_EQ(classify(o, Thresholds{}, kNow).status, Status::forked);
}

TEST(Classify, HttpAndElasticsearch) {
    Observation o;
    o.http_status = 200;
    EXPECT_EQ(classify(o, {}, kNow).status, Status::up);
    o.http_status = 503;
    EXPECT_EQ(classify(o, {}, kNow).status, Status::down);
    EXPECT_NE(classify(o, {}, kNow).error.find("503"), std::string::npos);
    o.http_status = 200;
    o.es_status = "yellow";
    EXPECT_EQ(classify(o, {}, kNow).status, Status::up);
    Thresholds strict;
    strict.es_yellow_is_down = true;
    EXPECT_EQ(classify(o, strict, kNow).status, Status::down);
    o.es_status = "red";
    EXPECT_EQ(classify(o, {}, kNow).status, Status::down);
    o.es_status = "purple";
    EXPECT_EQ(classify(o, {}, kNow).status, Status::down);
}

TEST(Helpers, StatusNames) {
    for (Status s : {Status::up, Status::down, Status::timeout, Status::stale, Status::wrong_chain,
                     Status::forked, Status::cert_expiring, Status::cert_mismatch}) {
        EXPECT_EQ(parse_status(to_string(s)), s);
    }
    EXPECT_FALSE(parse_status("MAYBE"));
    EXPECT_TRUE(counts_as_up("UP"));
    EXPECT_TRUE(counts_as_up("CERT_EXPIRING"));
    EXPECT_FALSE(counts_as_up("STALE"));
    // With the certificate's expiry (issue 13 item 3): an expired certificate is never up.
    EXPECT_TRUE(counts_as_up("CERT_EXPIRING", kNow + 86400, kNow));
    EXPECT_FALSE(counts_as_up("CERT_EXPIRING", kNow - 1, kNow));
    EXPECT_FALSE(counts_as_up("CERT_EXPIRING", kNow, kNow));
    EXPECT_FALSE(counts_as_up("UP", kNow - 86400, kNow));
    EXPECT_TRUE(counts_as_up("UP", 0, kNow));  // no certificate (ws://, http://)
    EXPECT_FALSE(counts_as_up("DOWN", 0, kNow));
}

TEST(Helpers, DaysLeftRoundsDown) {
    EXPECT_EQ(cert_days_left(kNow + 3 * 86400, kNow), 3);
    EXPECT_EQ(cert_days_left(kNow + 3 * 86400 - 1, kNow), 2);
    EXPECT_EQ(cert_days_left(kNow, kNow), 0);
    EXPECT_EQ(cert_days_left(kNow - 1, kNow), -1);
    EXPECT_EQ(cert_days_left(kNow - 86400, kNow), -1);
    EXPECT_EQ(cert_days_left(kNow - 86401, kNow), -2);
}

TEST(Helpers, Participation) {
    EXPECT_EQ(participation_from_slots("340282366920938463463374607431768211455"), 100.0);  // 2^128-1
    EXPECT_EQ(participation_from_slots("0"), 0.0);
    EXPECT_EQ(participation_from_slots("18446744073709551615"), 50.0);  // 2^64-1
    EXPECT_FALSE(participation_from_slots("340282366920938463463374607431768211456"));  // 2^128
    EXPECT_FALSE(participation_from_slots("12a"));
    EXPECT_FALSE(participation_from_slots(""));
}

TEST(Helpers, NodeTimeAndWildcards) {
    EXPECT_EQ(parse_node_time("2023-11-14T22:13:20"), 1'700'000'000);
    EXPECT_EQ(parse_node_time("2023-11-14T22:13:20Z"), 1'700'000'000);
    EXPECT_FALSE(parse_node_time("2023-11-14 22:13:20"));
    EXPECT_FALSE(parse_node_time("yesterday"));
    EXPECT_TRUE(is_wildcard_name("*.bitshares.ws"));
    EXPECT_FALSE(is_wildcard_name("api.bitshares.ws"));
    EXPECT_EQ(public_url("wss://user:secret@node.example:8090/ws?key=abc"), "wss://node.example:8090/ws");
    EXPECT_EQ(public_url("https://es.example/_cluster/health"), "https://es.example/_cluster/health");
}

TEST(ForkTracker, ReferenceDecides) {
    ForkTracker f;
    EXPECT_FALSE(f.observe("c", "ref", true, {{100, "aa"}}));
    EXPECT_FALSE(f.observe("c", "n1", false, {{100, "aa"}}));
    const auto forked = f.observe("c", "n2", false, {{100, "bb"}});
    ASSERT_TRUE(forked);
    EXPECT_NE(forked->find("reference"), std::string::npos);
    EXPECT_NE(forked->find("100"), std::string::npos);
    // The reference itself is never judged.
    EXPECT_FALSE(f.observe("c", "ref", true, {{100, "aa"}}));
    // Once n2 reports the reference's id again (resynced), it is no longer forked.
    EXPECT_FALSE(f.observe("c", "n2", false, {{100, "aa"}}));
}

TEST(ForkTracker, StrictMajorityWithoutReference) {
    ForkTracker f;
    EXPECT_FALSE(f.observe("c", "a", false, {{7, "x"}}));
    EXPECT_FALSE(f.observe("c", "b", false, {{7, "y"}}));  // 1 vs 1: a tie, nobody flagged
    EXPECT_FALSE(f.observe("c", "c", false, {{7, "x"}}));
    EXPECT_TRUE(f.observe("c", "b", false, {{7, "y"}}));   // now 2 others say x
    EXPECT_FALSE(f.observe("c", "a", false, {{7, "x"}}));
    // Other groups (chains) never mix.
    EXPECT_FALSE(f.observe("other", "z", false, {{7, "q"}}));
    // Heights nobody else reported are not evidence.
    EXPECT_FALSE(f.observe("c", "b", false, {{8, "y8"}}));
}

TEST(ForkTracker, AnchorRefreshes) {
    ForkTracker f;
    f.set_anchor_refresh_ms(1000);
    EXPECT_FALSE(f.anchor("c"));
    f.offer_lib("c", 0, 0);
    EXPECT_FALSE(f.anchor("c"));
    f.offer_lib("c", 50, 10);
    EXPECT_EQ(f.anchor("c"), 50u);
    f.offer_lib("c", 60, 500);  // within the refresh period: the anchor stays
    EXPECT_EQ(f.anchor("c"), 50u);
    f.offer_lib("c", 55, 1100);
    EXPECT_EQ(f.anchor("c"), 60u);  // the best LIB seen
}

TEST(ForkTracker, MemoryIsBounded) {
    ForkTracker f(8);
    for (std::uint64_t h = 0; h < 100; ++h) (void)f.observe("c", "a", false, {{h, "id"}});
    // Height 0 was forgotten: a conflicting report there is no evidence any more.
    (void)f.observe("c", "b", false, {{0, "other"}});
    EXPECT_FALSE(f.observe("c", "c", false, {{0, "third"}}));
}

util::TomlDoc doc(std::string_view text) { return util::TomlDoc::parse(text, "test.toml"); }

TEST(Config, ParsesEndpointsWithDefaultsAndOverrides) {
    const auto cfg = util::build_config<UptimeConfig>(doc(R"(
[uptime]
interval = "20s"
timeout = "3s"
push = ""
[thresholds]
stale_after = "45s"
cert_warn_days = 21
[[endpoint]]
name = "api-1"
url = "wss://node.example/ws"
chain_id = "39f5e2ede1f8bc1a3a54a7914414e3779e33193f1f5693510e73cb7a87617447"
reference = true
[[endpoint]]
name = "web"
url = "https://www.example/"
cert_warn_days = 30
allow_wildcard = false
[[endpoint]]
name = "es"
kind = "es"
url = "https://es.example"
interval = "1m"
)"));
    ASSERT_EQ(cfg.endpoints.size(), 3u);
    EXPECT_EQ(cfg.push, "");
    EXPECT_EQ(cfg.endpoints[0].kind, ProbeKind::api);
    EXPECT_TRUE(cfg.endpoints[0].reference);
    EXPECT_EQ(cfg.endpoints[0].interval, std::chrono::seconds(20));
    EXPECT_EQ(cfg.endpoints[0].timeout, std::chrono::seconds(3));
    EXPECT_EQ(cfg.endpoints[0].thresholds.stale_after, std::chrono::seconds(45));
    EXPECT_EQ(cfg.endpoints[0].wire_kind(), "wss");
    EXPECT_EQ(cfg.endpoints[1].kind, ProbeKind::http);
    EXPECT_EQ(cfg.endpoints[1].thresholds.cert_warn_days, 30);
    EXPECT_EQ(cfg.endpoints[0].thresholds.cert_warn_days, 21);
    EXPECT_FALSE(cfg.endpoints[1].thresholds.allow_wildcard);
    EXPECT_EQ(cfg.endpoints[2].kind, ProbeKind::es);
    EXPECT_EQ(cfg.endpoints[2].wire_kind(), "es");
    EXPECT_EQ(cfg.endpoints[2].interval, std::chrono::minutes(1));
}

void expect_config_error(std::string_view text, std::string_view needle) {
    try {
        (void)util::build_config<UptimeConfig>(doc(text));
        ADD_FAILURE() << "accepted: " << text;
    } catch (const util::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

TEST(Config, ShippedConfigFileIsValid) {
    const char* data = std::getenv("BTS_TEST_DATA");
    if (!data) GTEST_SKIP() << "BTS_TEST_DATA not set (run through meson test)";
    const auto cfg = util::build_config<UptimeConfig>(util::load_toml(std::string(data) + "/../../config/uptime.toml"));
    EXPECT_GE(cfg.endpoints.size(), 3u);
    for (const auto& e : cfg.endpoints) {
        if (e.name != "local-node") EXPECT_FALSE(e.thresholds.allow_wildcard) << e.name;
    }
}

TEST(Config, RejectsBadSettings) {
    expect_config_error("[uptime]\n", "no [[endpoint]]");
    expect_config_error("[[endpoint]]\nname='a'\nurl='http://x/'\nkind='api'\n", "ws://");
    expect_config_error("[[endpoint]]\nname='a'\nurl='ws://x/'\nchain_id='abc'\n", "64 hex");
    expect_config_error("[[endpoint]]\nname='a'\nurl='ws://x/'\n[[endpoint]]\nname='a'\nurl='ws://y/'\n",
                        "duplicate");
    expect_config_error("[[endpoint]]\nname='a'\nurl='ws://x/'\ntimeout='20s'\n", "interval");
    expect_config_error("[[endpoint]]\nname='a'\nurl='ws://x/'\nstale_afterr='1s'\n", "stale_after");
    expect_config_error("[[endpoint]]\nname='a'\nurl='nope'\n", "url");
    expect_config_error("[[endpoint]]\nname='a'\nurl='ws://x/'\n[uptime]\njitter=0.9\n", "jitter");
}

}  // namespace
}  // namespace bts::uptime
