// CURVE on the control channel: certificate files (modes, no overwrite), the plain-TCP rule,
// and the broker's allow list — allowed clients and beacons get in, others are refused, a
// certificate added at run time is honoured; secret keys never reach a log.
#include "fake_beacon.hpp"

#include "common/control/curve.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace bts::test {
namespace {

namespace fs = std::filesystem;
using control::Certificate;

unsigned mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 0777;
}

TEST(Curve, CertificateFilesAndModes) {
    TempDir dir;
    auto cert = Certificate::generate();
    ASSERT_FALSE(cert.save(dir.path() + "/keys", "alice"));
    EXPECT_EQ(mode_of(dir.path() + "/keys/alice.key"), 0644u);
    EXPECT_EQ(mode_of(dir.path() + "/keys/alice.key_secret"), 0600u);
    EXPECT_EQ(mode_of(dir.path() + "/keys"), 0700u);
    auto again = cert.save(dir.path() + "/keys", "alice");
    ASSERT_TRUE(again);
    EXPECT_NE(again->find("exists; refusing to overwrite"), std::string::npos);

    auto pub = Certificate::load(dir.path() + "/keys/alice.key");
    ASSERT_TRUE(pub);  // prefers the _secret file beside it
    EXPECT_TRUE(pub->has_secret());
    EXPECT_EQ(pub->public_txt(), cert.public_txt());
    fs::copy_file(dir.path() + "/keys/alice.key", dir.path() + "/only.key");
    auto only = Certificate::load(dir.path() + "/only.key");
    ASSERT_TRUE(only);
    EXPECT_FALSE(only->has_secret());

    EXPECT_EQ(Certificate::load(dir.path() + "/missing.key").error(),
              dir.path() + "/missing.key: no such certificate file");
    std::ofstream(dir.path() + "/junk.key") << "hello\n";
    EXPECT_FALSE(Certificate::load(dir.path() + "/junk.key"));
    EXPECT_TRUE(cert.save(dir.path(), "../x").has_value());
}

TEST(Curve, PlainTcpOnlyOnLoopbackUnlessInsecure) {
    using control::check_plaintext;
    using control::is_loopback_endpoint;
    EXPECT_TRUE(is_loopback_endpoint("tcp://127.0.0.1:5560"));
    EXPECT_TRUE(is_loopback_endpoint("tcp://127.1.2.3:5560"));
    EXPECT_TRUE(is_loopback_endpoint("tcp://localhost:5560"));
    EXPECT_TRUE(is_loopback_endpoint("tcp://[::1]:5560"));
    EXPECT_TRUE(is_loopback_endpoint("ipc:///run/bts/broker"));
    EXPECT_FALSE(is_loopback_endpoint("tcp://*:5560"));
    EXPECT_FALSE(is_loopback_endpoint("tcp://0.0.0.0:5560"));
    EXPECT_FALSE(is_loopback_endpoint("tcp://127.example.com:5560"));
    EXPECT_FALSE(is_loopback_endpoint("tcp://10.0.0.1:5560"));
    EXPECT_EQ(check_plaintext("tcp://10.0.0.1:5560", false, false),
              "plain TCP refused on non-loopback endpoint tcp://10.0.0.1:5560: configure CURVE "
              "keys, or set insecure = true to allow it explicitly");
    EXPECT_FALSE(check_plaintext("tcp://10.0.0.1:5560", true, false));
    EXPECT_FALSE(check_plaintext("tcp://10.0.0.1:5560", false, true));

    broker::BrokerConfig c;
    c.router = "tcp://*:5560";
    EXPECT_THROW(c.validate(), util::ConfigError);
    c.insecure = true;
    EXPECT_NO_THROW(c.validate());
}

struct CurveSetup {
    TempDir dir;
    std::string keys = dir.path() + "/keys";
    std::string allow = dir.path() + "/allowed";
    std::string broker_secret;
    std::string broker_public;
    std::string broker_secret_txt;
    CurveSetup() {
        fs::create_directories(allow);
        auto b = Certificate::generate();
        EXPECT_FALSE(b.save(keys, "broker"));
        broker_secret = keys + "/broker.key_secret";
        broker_public = keys + "/broker.key";
        for (const char* name : {"alice", "beacon-1", "mallory", "beacon-x"}) {
            EXPECT_FALSE(Certificate::generate().save(keys, name));
        }
        for (const char* name : {"alice", "beacon-1"}) allow_cert(name);
        std::ifstream in(broker_secret);
        std::string line;
        while (std::getline(in, line)) {
            auto at = line.find("secret-key = \"");
            if (at != std::string::npos) broker_secret_txt = line.substr(at + 14, 40);
        }
    }
    void allow_cert(const std::string& name) {
        fs::copy_file(keys + "/" + name + ".key", allow + "/" + name + ".key");
    }
    std::string secret(const std::string& name) const { return keys + "/" + name + ".key_secret"; }
};

TEST(Curve, AllowListAdmitsOnlyKnownCertificates) {
    CurveSetup s;
    ASSERT_EQ(s.broker_secret_txt.size(), 40u);
    Ports p = Ports::fresh();
    auto cfg = fast_broker(p);
    cfg.secret_cert = s.broker_secret;
    cfg.allow_dir = s.allow;
    CapturedLog log("bts-broker");
    auto broker = std::make_unique<broker::Broker>(cfg, log.logger);

    // An allowed bts-ctl user.
    Ctl alice(p, s.secret("alice"), s.broker_public);
    auto pong = alice.call("ping");
    EXPECT_EQ(pong.value("sender_id", std::string()), broker->sender_id()) << pong.dump();

    // A client whose certificate is not in the allow list: refused, and told so.
    Ctl mallory(p, s.secret("mallory"), s.broker_public);
    auto r = mallory.client().request("status", "{}", 3s);
    ASSERT_FALSE(r);
    EXPECT_EQ(mallory.client().failure(), control::CtlClient::Failure::kAuthRefused) << r.error();
    EXPECT_NE(r.error().find("not in the broker's allow list"), std::string::npos) << r.error();

    // A client without CURVE gets nothing either.
    Ctl plain(p);
    EXPECT_FALSE(plain.client().request("status", "{}", 500ms));

    // Beacons: the allowed one registers, the other never does.
    FakeBeacon good("beacon-1", p, [&](control::BeaconLinkConfig& c) {
        c.cert = s.secret("beacon-1");
        c.broker_key = s.broker_public;
    });
    FakeBeacon bad("beacon-x", p, [&](control::BeaconLinkConfig& c) {
        c.cert = s.secret("beacon-x");
        c.broker_key = s.broker_public;
    });
    ASSERT_TRUE(wait_until([&] { return alice.alive_beacons() == 1; }));
    std::this_thread::sleep_for(500ms);
    auto list = alice.call("beacons")["beacons"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["id"], "beacon-1");
    EXPECT_FALSE(bad.link().broker_up());

    // A beacon that has the wrong broker key cannot be fooled by (or talk to) this broker.
    FakeBeacon wrong_key("beacon-1b", p, [&](control::BeaconLinkConfig& c) {
        c.cert = s.secret("beacon-1");
        c.broker_key = s.keys + "/mallory.key";
    });

    // Certificates can be added while the broker runs (zauth re-reads the directory).
    std::this_thread::sleep_for(1100ms);  // a new directory mtime
    s.allow_cert("beacon-x");
    EXPECT_TRUE(wait_until([&] { return alice.alive_beacons() == 2; }, 10s));
    EXPECT_FALSE(wrong_key.link().broker_up());

    broker.reset();
    // No secret key ever reaches the log.
    std::string text = log.text();
    EXPECT_EQ(text.find(s.broker_secret_txt), std::string::npos);
    EXPECT_NE(text.find("CURVE"), std::string::npos);
}

TEST(Curve, BeaconLinkRefusesPlainTcpToARemoteBroker) {
    control::BeaconLinkConfig c;
    c.broker = "tcp://10.1.2.3:5560";
    c.beacon_id = "b";
    try {
        control::BeaconLink link(c, {}, spdlog::default_logger());
        FAIL() << "accepted plain TCP to a remote broker";
    } catch (const util::ConfigError& e) {
        EXPECT_EQ(e.key(), "broker.insecure");
    }
    c.insecure = true;
    EXPECT_NO_THROW(control::BeaconLink(c, {}, spdlog::default_logger()));
}

}  // namespace
}  // namespace bts::test
