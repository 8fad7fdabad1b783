// Probers against real local targets: scripted API nodes (plain and TLS with certificates made
// by openssl in the test), a closed port, a listener that never answers, HTTP and Elasticsearch
// responders. Each probe is judged with classify(), as the actor does.
#include "actors/uptime/probe.hpp"
#include "fake_targets.hpp"
#include "process.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

namespace bts::uptime {
namespace {

using testing::FakeNode;
using testing::FakeNodeOptions;

std::shared_ptr<spdlog::logger> quiet() {
    return std::make_shared<spdlog::logger>("quiet", std::make_shared<spdlog::sinks::null_sink_mt>());
}

struct Probed {
    ProbeOutcome out;
    Verdict verdict;
};

Probed probe_once(EndpointConfig cfg, std::optional<std::uint64_t> anchor = std::nullopt) {
    boost::asio::io_context ioc;
    Prober prober(ioc, cfg, quiet());
    std::optional<ProbeOutcome> got;
    EXPECT_TRUE(prober.probe(anchor, [&](ProbeOutcome&& o) { got = std::move(o); }));
    EXPECT_TRUE(prober.busy());
    EXPECT_FALSE(prober.probe(anchor, [](ProbeOutcome&&) {}));  // one at a time
    while (!got && ioc.run_one_for(std::chrono::seconds(20))) {
    }
    EXPECT_TRUE(got.has_value()) << "probe never finished";
    if (!got) return {};
    const Verdict v = classify(got->obs, cfg.thresholds, got->result.unix_ms / 1000);
    return {std::move(*got), v};
}

EndpointConfig api(const std::string& url, const std::string& chain = std::string(64, 'c')) {
    EndpointConfig c;
    c.name = "node";
    c.url = url;
    c.kind = ProbeKind::api;
    c.chain_id = chain;
    c.timeout = std::chrono::seconds(2);
    return c;
}

TEST(Probe, HealthyApiNodeIsUpWithAllFields) {
    FakeNode node({});
    const Probed p = probe_once(api(node.url()), std::uint64_t{980});
    EXPECT_EQ(p.verdict.status, Status::up) << p.verdict.error;
    const auto& r = p.out.result;
    EXPECT_EQ(r.endpoint, "node");
    EXPECT_EQ(r.kind, "ws");
    EXPECT_EQ(r.chain_id, std::string(64, 'c'));
    EXPECT_EQ(r.head_block_num, 1000u);
    EXPECT_GE(r.head_block_age_s, 0.5);
    EXPECT_LT(r.head_block_age_s, 3.0);
    EXPECT_DOUBLE_EQ(r.participation, 100.0);
    EXPECT_GT(r.connect_us, 0u);
    EXPECT_GT(r.ws_us, 0u);
    EXPECT_GT(r.rpc_us, 0u);
    EXPECT_EQ(r.tls_us, 0u);
    EXPECT_GE(r.duration_us, r.rpc_us);
    EXPECT_GT(r.unix_ms, 1'600'000'000'000);
    EXPECT_EQ(p.out.last_irreversible, 980u);
    // Head id plus the id below the anchor (previous of header 980).
    ASSERT_EQ(p.out.block_ids.size(), 2u);
    EXPECT_EQ(p.out.block_ids[0], std::make_pair(std::uint64_t{1000}, node.block_id(1000)));
    EXPECT_EQ(p.out.block_ids[1], std::make_pair(std::uint64_t{979}, node.block_id(979)));
}

TEST(Probe, WrongChainAndStale) {
    FakeNode other(FakeNodeOptions{}.chain(std::string(64, 'd')));
    EXPECT_EQ(probe_once(api(other.url())).verdict.status, Status::wrong_chain);

    FakeNode stale(FakeNodeOptions{}.age(120));
    auto cfg = api(stale.url());
    cfg.thresholds.stale_after = std::chrono::seconds(30);
    const Probed p = probe_once(cfg);
    EXPECT_EQ(p.verdict.status, Status::stale);
    EXPECT_NEAR(p.out.result.head_block_age_s, 120, 3);

    FakeNode weak(FakeNodeOptions{}.slots("18446744073709551615"));  // 64 of 128 slots
    cfg = api(weak.url());
    cfg.thresholds.min_participation = 80;
    const Probed w = probe_once(cfg);
    EXPECT_EQ(w.verdict.status, Status::stale);
    EXPECT_DOUBLE_EQ(w.out.result.participation, 50.0);
}

TEST(Probe, ClosedPortIsDown) {
    const Probed p = probe_once(api("ws://127.0.0.1:" + std::to_string(testing::closed_port()) + "/"));
    EXPECT_EQ(p.verdict.status, Status::down);
    EXPECT_NE(p.verdict.error.find("refused"), std::string::npos) << p.verdict.error;
    EXPECT_LT(p.out.result.duration_us, 1'000'000u);
}

TEST(Probe, SilentListenerIsTimeout) {
    testing::SilentListener silent;
    auto cfg = api("ws://127.0.0.1:" + std::to_string(silent.port()) + "/");
    cfg.timeout = std::chrono::milliseconds(700);
    const auto t0 = std::chrono::steady_clock::now();
    const Probed p = probe_once(cfg);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(p.verdict.status, Status::timeout) << p.verdict.error;
    EXPECT_GE(took, std::chrono::milliseconds(650));
    EXPECT_LT(took, std::chrono::milliseconds(1500));
    EXPECT_GE(p.out.result.duration_us, 650'000u);

    // Same for HTTP.
    EndpointConfig h;
    h.name = "page";
    h.url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/";
    h.kind = ProbeKind::http;
    h.timeout = std::chrono::milliseconds(500);
    EXPECT_EQ(probe_once(h).verdict.status, Status::timeout);
}

TEST(Probe, HttpPagesAndElasticsearch) {
    testing::HttpResponder ok(200, "<html>hi</html>", "text/html");
    EndpointConfig h;
    h.name = "page";
    h.url = ok.url("/status");
    h.kind = ProbeKind::http;
    Probed p = probe_once(h);
    EXPECT_EQ(p.verdict.status, Status::up) << p.verdict.error;
    EXPECT_EQ(p.out.obs.http_status, 200);
    EXPECT_EQ(p.out.result.kind, "http");
    EXPECT_GT(p.out.result.rpc_us, 0u);

    testing::HttpResponder broken(503, "busy", "text/plain");
    h.url = broken.url();
    p = probe_once(h);
    EXPECT_EQ(p.verdict.status, Status::down);
    EXPECT_NE(p.verdict.error.find("503"), std::string::npos);

    testing::HttpResponder green(200, R"({"cluster_name":"t","status":"green"})");
    EndpointConfig es;
    es.name = "es";
    es.url = green.url("/");
    es.kind = ProbeKind::es;
    p = probe_once(es);
    EXPECT_EQ(p.verdict.status, Status::up) << p.verdict.error;
    EXPECT_EQ(p.out.obs.es_status, "green");
    EXPECT_EQ(green.last_target(), "/_cluster/health");
    EXPECT_EQ(p.out.result.kind, "es");

    testing::HttpResponder red(200, R"({"status":"red"})");
    es.url = red.url();
    EXPECT_EQ(probe_once(es).verdict.status, Status::down);

    testing::HttpResponder junk(200, "not json");
    es.url = junk.url();
    EXPECT_EQ(probe_once(es).verdict.status, Status::down);
}

// Self-signed certificates for the TLS tests, made once per test by the openssl command.
class TlsProbe : public ::testing::Test {
protected:
    void SetUp() override {
        openssl_ = testing::openssl_path();
        if (openssl_.empty()) GTEST_SKIP() << "openssl command not installed (scripts/setup.sh installs it)";
    }
    // Returns {cert, key}.
    std::pair<std::string, std::string> make_cert(const std::string& name, int days, const std::string& cn,
                                                  const std::string& san) {
        const std::string cert = dir_.file(name + ".crt"), key = dir_.file(name + ".key");
        const auto r = bts::test::run_program(
            openssl_, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                       "-nodes", "-keyout", key, "-out", cert, "-days", std::to_string(days), "-subj",
                       "/CN=" + cn + "/O=bts-stress test", "-addext", "subjectAltName=" + san});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return {cert, key};
    }
    std::string openssl_;
    bts::test::TempDir dir_;
};

TEST_F(TlsProbe, CertificateExpiringInThreeDays) {
    const auto [cert, key] = make_cert("soon", 3, "127.0.0.1", "IP:127.0.0.1,DNS:localhost");
    FakeNode node(FakeNodeOptions{}.tls(cert, key));
    auto cfg = api(node.url());
    cfg.ca_file = cert;  // trust the self-signed certificate
    const Probed p = probe_once(cfg);
    EXPECT_EQ(p.verdict.status, Status::cert_expiring) << p.verdict.error;
    const auto& r = p.out.result;
    EXPECT_EQ(r.kind, "wss");
    EXPECT_GE(r.cert_days_left, 2);
    EXPECT_LE(r.cert_days_left, 3);
    EXPECT_TRUE(r.cert_name_matches);
    EXPECT_FALSE(r.cert_wildcard);
    EXPECT_GT(r.tls_us, 0u);
    EXPECT_NE(r.cert_issuer.find("127.0.0.1"), std::string::npos) << r.cert_issuer;
    EXPECT_NE(r.cert_subject.find("bts-stress test"), std::string::npos) << r.cert_subject;
    EXPECT_EQ(r.chain_id, std::string(64, 'c'));  // the API calls still ran

    // Without the CA file the chain is not trusted: CERT_MISMATCH (unless trust is not required).
    cfg.ca_file.clear();
    const Probed untrusted = probe_once(cfg);
    EXPECT_EQ(untrusted.verdict.status, Status::cert_mismatch);
    EXPECT_NE(untrusted.verdict.error.find("not trusted"), std::string::npos) << untrusted.verdict.error;
    cfg.thresholds.require_trusted_cert = false;
    EXPECT_EQ(probe_once(cfg).verdict.status, Status::cert_expiring);
}

TEST_F(TlsProbe, CertificateForAnotherName) {
    const auto [cert, key] = make_cert("other", 365, "other.example", "DNS:other.example");
    FakeNode node(FakeNodeOptions{}.tls(cert, key));
    auto cfg = api(node.url());
    cfg.ca_file = cert;
    const Probed p = probe_once(cfg);
    EXPECT_EQ(p.verdict.status, Status::cert_mismatch) << p.verdict.error;
    EXPECT_FALSE(p.out.result.cert_name_matches);
    EXPECT_GE(p.out.result.cert_days_left, 364);
    EXPECT_NE(p.verdict.error.find("host name"), std::string::npos) << p.verdict.error;
}

TEST_F(TlsProbe, HealthyCertificateAndWildcardPolicy) {
    const auto [cert, key] = make_cert("good", 200, "localhost", "DNS:localhost,DNS:*.localhost,IP:127.0.0.1");
    FakeNode node(FakeNodeOptions{}.tls(cert, key));
    auto cfg = api(node.url());
    cfg.ca_file = cert;
    Probed p = probe_once(cfg);
    EXPECT_EQ(p.verdict.status, Status::up) << p.verdict.error;
    EXPECT_TRUE(p.out.result.cert_wildcard);
    cfg.thresholds.allow_wildcard = false;
    p = probe_once(cfg);
    EXPECT_EQ(p.verdict.status, Status::cert_mismatch);
    EXPECT_NE(p.verdict.error.find("wildcard"), std::string::npos);
}

}  // namespace
}  // namespace bts::uptime
