// wss:// against a local TLS WsServer using certificates generated at test time: verification off,
// on with a CA file, on without one, wrong host name; TLS details and failure counters.
#include <ctime>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/net/ws_client.hpp"
#include "common/net/ws_server.hpp"
#include "net_test_util.hpp"

namespace bts::net {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using test::run_until;

class WsTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    cert_ok_ = !dir_->path().empty() && test::make_test_cert(dir_->path(), "localhost", "localhost", "DNS:localhost");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(cert_ok_) << "openssl could not generate a test certificate"; }

  static std::string cert() { return (dir_->path() / "localhost.crt").string(); }
  static std::string key() { return (dir_->path() / "localhost.key").string(); }

  static WsServerConfig tls_server_config() {
    WsServerConfig cfg;
    cfg.tls_cert_file = cert();
    cfg.tls_key_file = key();
    return cfg;
  }

  static WsClientConfig client_config(const std::string& url, bool verify, const std::string& ca_file = {}) {
    WsClientConfig cfg;
    cfg.urls = {url};
    cfg.connect_timeout = 3s;
    cfg.auto_reconnect = false;
    cfg.tls.verify = verify;
    cfg.tls.ca_file = ca_file;
    return cfg;
  }

  // Runs one connect attempt; returns the state reported.
  static WsState attempt(boost::asio::io_context& ioc, WsClient& client) {
    std::optional<WsState> state;
    client.on_state([&](WsState st, const ConnectInfo&, std::string_view) { state = st; });
    client.start();
    EXPECT_TRUE(run_until(ioc, [&] { return state.has_value(); }));
    return state.value_or(WsState::disconnected);
  }

  static WsServer::RequestHandler echo() {
    return [](const SessionHandle& s, RpcRequest&& r) { s.reply(r.id, r.method); };
  }

  static test::TempDir* dir_;
  static bool cert_ok_;
};

test::TempDir* WsTls::dir_ = nullptr;
bool WsTls::cert_ok_ = false;

TEST_F(WsTls, VerifyOffConnectsAndReportsTheCertificate) {
  boost::asio::io_context ioc;
  WsServer server(ioc, tls_server_config(), echo());
  EXPECT_TRUE(server.tls());
  WsClient client(ioc, client_config("wss://localhost:" + std::to_string(server.port()), /*verify=*/false));
  ASSERT_EQ(attempt(ioc, client), WsState::connected) << client.connect_info().error;
  const ConnectInfo& info = client.connect_info();
  ASSERT_TRUE(info.tls);
  const TlsInfo& tls = *info.tls;
  EXPECT_EQ(tls.subject_cn, "localhost");
  EXPECT_EQ(tls.issuer_cn, "localhost");  // self-signed
  EXPECT_NE(tls.issuer.find("CN=localhost"), std::string::npos) << tls.issuer;
  EXPECT_EQ(tls.subject_alt_names, std::vector<std::string>{"localhost"});
  EXPECT_TRUE(tls.host_matched);
  EXPECT_FALSE(tls.verified);  // not trusted without the CA file, but verification was off
  EXPECT_NE(tls.verify_error.find("self"), std::string::npos) << tls.verify_error;
  const int64_t now = std::time(nullptr);
  const int64_t three_days = 3 * 86400;
  EXPECT_GT(tls.not_after, now + three_days - 600);
  EXPECT_LT(tls.not_after, now + three_days + 600);
  EXPECT_LE(tls.not_before, now + 60);
  EXPECT_FALSE(tls.version.empty());
  EXPECT_FALSE(tls.cipher.empty());
  EXPECT_GT(info.timings.tls_us, 0);
  EXPECT_GT(info.timings.ws_us, 0);

  std::optional<RpcResult> result;
  client.call(0, "over_tls", json::array(), [&](RpcResult&& r) { result = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return result.has_value(); }));
  ASSERT_TRUE(result->ok()) << result->message;
  EXPECT_EQ(result->result, "over_tls");
}

TEST_F(WsTls, VerifyOnWithCaFileConnects) {
  boost::asio::io_context ioc;
  WsServer server(ioc, tls_server_config(), echo());
  WsClient client(ioc, client_config("wss://localhost:" + std::to_string(server.port()), true, cert()));
  ASSERT_EQ(attempt(ioc, client), WsState::connected) << client.connect_info().error;
  ASSERT_TRUE(client.connect_info().tls);
  EXPECT_TRUE(client.connect_info().tls->verified) << client.connect_info().tls->verify_error;
  EXPECT_TRUE(client.connect_info().tls->host_matched);
  EXPECT_EQ(client.counters().tls_failures, 0u);
}

TEST_F(WsTls, VerifyOnWithoutTrustIsATlsFailure) {
  boost::asio::io_context ioc;
  WsServer server(ioc, tls_server_config(), echo());
  WsClient client(ioc, client_config("wss://localhost:" + std::to_string(server.port()), true));
  ASSERT_EQ(attempt(ioc, client), WsState::connect_failed);
  const ConnectInfo& info = client.connect_info();
  EXPECT_TRUE(info.tls_failure);
  EXPECT_NE(info.error.find("TLS handshake"), std::string::npos) << info.error;
  EXPECT_NE(info.error.find("self"), std::string::npos) << info.error;
  EXPECT_EQ(client.counters().tls_failures, 1u);
  EXPECT_EQ(client.counters().connect_failures, 1u);
  // The prober still learns what the peer presented.
  ASSERT_TRUE(info.tls);
  EXPECT_EQ(info.tls->subject_cn, "localhost");
  EXPECT_GT(info.tls->not_after, 0);
  EXPECT_FALSE(info.tls->verified);
  ASSERT_TRUE(run_until(ioc, [&] { return server.stats().tls_failures == 1; }));
}

TEST_F(WsTls, WrongHostNameIsATlsFailure) {
  boost::asio::io_context ioc;
  WsServer server(ioc, tls_server_config(), echo());
  // The certificate names only DNS:localhost; connecting by IP must not match.
  WsClient client(ioc, client_config("wss://127.0.0.1:" + std::to_string(server.port()), true, cert()));
  ASSERT_EQ(attempt(ioc, client), WsState::connect_failed);
  const ConnectInfo& info = client.connect_info();
  EXPECT_TRUE(info.tls_failure);
  EXPECT_EQ(client.counters().tls_failures, 1u);
  ASSERT_TRUE(info.tls);
  EXPECT_FALSE(info.tls->host_matched);
  EXPECT_NE(info.tls->verify_error.find("mismatch"), std::string::npos) << info.tls->verify_error;
  EXPECT_NE(info.error.find("mismatch"), std::string::npos) << info.error;
}

TEST_F(WsTls, WrongHostNameWithVerifyOffConnectsButSaysSo) {
  boost::asio::io_context ioc;
  WsServer server(ioc, tls_server_config(), echo());
  WsClient client(ioc, client_config("wss://127.0.0.1:" + std::to_string(server.port()), false, cert()));
  ASSERT_EQ(attempt(ioc, client), WsState::connected);
  ASSERT_TRUE(client.connect_info().tls);
  EXPECT_FALSE(client.connect_info().tls->host_matched);
  EXPECT_FALSE(client.connect_info().tls->verified);
}

TEST_F(WsTls, PlainClientOnTlsPortFailsCleanly) {
  boost::asio::io_context ioc;
  WsServer server(ioc, tls_server_config(), echo());
  WsClient client(ioc, client_config("ws://127.0.0.1:" + std::to_string(server.port()), true));
  ASSERT_EQ(attempt(ioc, client), WsState::connect_failed);
  EXPECT_FALSE(client.connect_info().tls_failure);  // the client never spoke TLS
  EXPECT_EQ(client.counters().connect_failures, 1u);
}

TEST_F(WsTls, BadFilesAreStartupErrors) {
  boost::asio::io_context ioc;
  WsServerConfig cfg = tls_server_config();
  cfg.tls_cert_file = (dir_->path() / "missing.crt").string();
  try {
    WsServer server(ioc, cfg, echo());
    FAIL() << "missing certificate accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.crt"), std::string::npos) << e.what();
  }
  cfg = tls_server_config();
  cfg.tls_key_file.clear();
  EXPECT_THROW(WsServer(ioc, cfg, echo()), std::runtime_error);
  try {
    WsClient client(ioc, client_config("wss://localhost:1", true, (dir_->path() / "nope.pem").string()));
    FAIL() << "missing CA file accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bts::net
