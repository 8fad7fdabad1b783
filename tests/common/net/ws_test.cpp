// Real WsServer + WsClient on 127.0.0.1 with ephemeral ports: replies, concurrency, notices,
// timeouts, server death and failover, malformed replies, malformed requests.
#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "common/net/ws_client.hpp"
#include "common/net/ws_server.hpp"
#include "net_test_util.hpp"

namespace bts::net {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using test::run_for;
using test::run_until;

std::string api_text(const RpcApi& api) {
  return std::holds_alternative<int64_t>(api) ? std::to_string(std::get<int64_t>(api)) : std::get<std::string>(api);
}

// Echo server: the result names the API, method and params it received.
WsServer::RequestHandler echo_handler() {
  return [](const SessionHandle& s, RpcRequest&& r) {
    s.reply(r.id, json{{"api", api_text(r.api)}, {"method", r.method}, {"params", std::move(r.params)}});
  };
}

std::string url_of(const WsServer& server) { return "ws://127.0.0.1:" + std::to_string(server.port()) + "/"; }

WsClientConfig client_config(std::vector<std::string> urls) {
  WsClientConfig cfg;
  cfg.urls = std::move(urls);
  cfg.connect_timeout = 3s;
  cfg.request_timeout = 5s;
  cfg.reconnect_base = 20ms;
  cfg.reconnect_max = 200ms;
  return cfg;
}

// Starts `client` and runs until it is connected.
::testing::AssertionResult connect(boost::asio::io_context& ioc, WsClient& client) {
  client.start();
  if (run_until(ioc, [&] { return client.connected(); })) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "not connected: " << client.connect_info().error;
}

TEST(WsNet, CallReplyAndShortcut) {
  boost::asio::io_context ioc;
  int opened = 0;
  WsServer server(ioc, {}, echo_handler(), [&](const SessionHandle&) { ++opened; });
  ASSERT_NE(server.port(), 0);
  WsClient client(ioc, client_config({url_of(server)}));
  std::vector<WsState> states;
  client.on_state([&](WsState st, const ConnectInfo& info, std::string_view) {
    states.push_back(st);
    EXPECT_TRUE(info.ok);
  });
  ASSERT_TRUE(connect(ioc, client));
  ASSERT_EQ(states, std::vector<WsState>{WsState::connected});
  EXPECT_EQ(opened, 1);
  const auto& info = client.connect_info();
  EXPECT_EQ(info.remote_endpoint, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_GT(info.timings.tcp_us, 0);
  EXPECT_GT(info.timings.ws_us, 0);
  EXPECT_EQ(info.timings.tls_us, 0);
  EXPECT_FALSE(info.tls);

  std::vector<RpcResult> results;
  auto collect = [&](RpcResult&& r) { results.push_back(std::move(r)); };
  client.call(0, "get_block", json::array({5}), collect);
  client.call(std::string("network_broadcast"), "broadcast_transaction", json::array({json{{"x", 1}}}), collect);
  // Pre-serialised tail: the client only prepends the id.
  const std::string tail = make_rpc_call_tail(int64_t{2}, "get_objects", json::array({json::array({"2.1.0"})}));
  const uint64_t raw_id = client.send_raw(tail, collect);
  // Caller-built body with a reserved id, using the get_chain_id shortcut form.
  const uint64_t id = client.next_id();
  client.send_raw_with_id(id, R"({"id":)" + std::to_string(id) + R"(,"method":"get_chain_id","params":[]})", collect);
  EXPECT_GT(id, raw_id);
  ASSERT_TRUE(run_until(ioc, [&] { return results.size() == 4; }));
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(results[0].result, json::parse(R"({"api":"0","method":"get_block","params":[5]})"));
  EXPECT_EQ(results[1].result["api"], "network_broadcast");
  EXPECT_EQ(results[1].result["params"][0]["x"], 1);
  EXPECT_EQ(results[2].result["method"], "get_objects");
  EXPECT_EQ(results[2].result["api"], "2");
  EXPECT_EQ(results[3].result["method"], "get_chain_id");
  EXPECT_EQ(results[3].result["api"], "0");
  EXPECT_EQ(client.counters().requests, 4u);
  EXPECT_EQ(client.counters().replies, 4u);
  EXPECT_EQ(client.counters().bad_replies, 0u);
  EXPECT_EQ(client.pending(), 0u);
  EXPECT_EQ(server.stats().messages_in, 4u);
}

TEST(WsNet, RpcErrorCarriesCodeMessageAndData) {
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, [](const SessionHandle& s, RpcRequest&& r) {
    s.reply_error(r.id, 3030001, "duplicate transaction: Transaction 'abc' is already in the database",
                  "duplicate_transaction");
  });
  WsClient client(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, client));
  std::optional<RpcResult> result;
  client.call(2, "broadcast_transaction", json::array(), [&](RpcResult&& r) { result = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return result.has_value(); }));
  EXPECT_EQ(result->kind, RpcErrorKind::rpc_error);
  EXPECT_EQ(result->code, 3030001);
  EXPECT_NE(result->message.find("duplicate transaction"), std::string::npos);
  EXPECT_EQ(result->data["name"], "duplicate_transaction");
  EXPECT_EQ(client.counters().rpc_errors, 1u);
}

TEST(WsNet, RpcErrorWithoutMessageIsNamed) {
  // issue 17: {"error":{"code":1}} made callers print "get_chain_id: " with nothing after.
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, [](const SessionHandle& s, RpcRequest&& r) {
    if (r.method == "coded") s.send(R"({"id":)" + r.id.dump() + R"(,"error":{"code":7}})");
    if (r.method == "blank") s.send(R"({"id":)" + r.id.dump() + R"(,"error":{"message":"  "}})");
    if (r.method == "empty") s.send(R"({"id":)" + r.id.dump() + R"(,"error":{}})");
  });
  WsClient client(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, client));
  std::map<std::string, RpcResult> results;
  for (const char* m : {"coded", "blank", "empty"}) {
    client.call(0, m, json::array(), [&results, m](RpcResult&& r) { results[m] = std::move(r); });
  }
  ASSERT_TRUE(run_until(ioc, [&] { return results.size() == 3; }));
  EXPECT_EQ(results["coded"].kind, RpcErrorKind::rpc_error);
  EXPECT_EQ(results["coded"].message, "node error without a message (code 7)");
  EXPECT_EQ(results["blank"].message, "node error without a message");
  EXPECT_EQ(results["empty"].message, "node error without a message");
}

TEST(WsNet, BadRepliesAreLoggedEscaped) {
  // issue 17: a node's raw bytes reached the log unescaped (terminal escapes, fake log lines).
  std::ostringstream captured;
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_pattern("%v");
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, [](const SessionHandle& s, RpcRequest&& r) {
    if (r.method == "evil") s.send("not json\n2099-01-01 ERROR fake line\x1b[2J\x01");
    s.reply(r.id, "fine");
  });
  WsClientConfig cfg = client_config({url_of(server)});
  cfg.logger = logger;
  WsClient client(ioc, cfg);
  ASSERT_TRUE(connect(ioc, client));
  std::optional<RpcResult> fine;
  client.call(0, "evil", json::array(), [&](RpcResult&& r) { fine = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return fine.has_value(); }));
  ASSERT_TRUE(run_until(ioc, [&] { return client.counters().bad_replies >= 1; }));
  logger->flush();
  const std::string log = captured.str();
  ASSERT_NE(log.find("bad reply"), std::string::npos) << log;
  EXPECT_NE(log.find("not json\\n2099-01-01 ERROR fake line\\x1b[2J\\x01"), std::string::npos) << log;
  EXPECT_EQ(log.find('\x1b'), std::string::npos);
  EXPECT_EQ(log.find('\x01'), std::string::npos);
}

TEST(WsNet, ThousandInFlightAnsweredOutOfOrder) {
  boost::asio::io_context ioc;
  constexpr int kCount = 1000;
  std::vector<std::pair<SessionHandle, RpcRequest>> held;
  WsServer server(ioc, {}, [&](const SessionHandle& s, RpcRequest&& r) {
    held.emplace_back(s, std::move(r));
    if (held.size() < kCount) return;
    // Everything is in flight at once: answer in a shuffled order.
    std::shuffle(held.begin(), held.end(), std::mt19937(42));
    for (auto& [session, req] : held) session.reply(req.id, req.params[0]);
    held.clear();
  });
  WsClient client(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, client));
  int good = 0;
  int bad = 0;
  for (int i = 0; i < kCount; ++i) {
    client.call(0, "echo", json::array({i}), [&, i](RpcResult&& r) {
      if (r.ok() && r.result == i) {
        ++good;
      } else {
        ++bad;
      }
    });
  }
  EXPECT_EQ(client.pending(), static_cast<std::size_t>(kCount));
  ASSERT_TRUE(run_until(ioc, [&] { return good + bad == kCount; }));
  EXPECT_EQ(good, kCount);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(client.counters().replies, static_cast<uint64_t>(kCount));
  EXPECT_EQ(client.pending(), 0u);
}

TEST(WsNet, NoticesReachTheRegisteredCallback) {
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, [](const SessionHandle& s, RpcRequest&& r) {
    if (r.method != "set_block_applied_callback") return;
    const auto cb = r.params[0].get<uint64_t>();
    s.reply(r.id, nullptr);
    for (int block = 1; block <= 3; ++block) s.notice(cb, "block-" + std::to_string(block));
    s.notice(999, "nobody listens");
    s.send(R"({"method":"notice","params":"bad"})");
  });
  WsClient client(ioc, client_config({url_of(server)}));
  std::vector<json> notices;
  client.on_notice(7, [&](json&& args) { notices.push_back(std::move(args)); });
  ASSERT_TRUE(connect(ioc, client));
  bool replied = false;
  client.call(0, "set_block_applied_callback", json::array({7}), [&](RpcResult&& r) { replied = r.ok(); });
  ASSERT_TRUE(run_until(ioc, [&] { return notices.size() == 3 && client.counters().unknown_notices == 2; }));
  EXPECT_TRUE(replied);
  EXPECT_EQ(notices[0], json::array({"block-1"}));
  EXPECT_EQ(notices[2], json::array({"block-3"}));
  EXPECT_EQ(client.counters().notices, 3u);
  EXPECT_EQ(client.counters().bad_replies, 0u);
}

TEST(WsNet, RequestTimeoutThenLateReply) {
  boost::asio::io_context ioc;
  boost::asio::steady_timer later(ioc);
  WsServer server(ioc, {}, [&](const SessionHandle& s, RpcRequest&& r) {
    if (r.method == "fast") return void(s.reply(r.id, "fast"));
    // Answer "slow" after 1 s — well past the client's 100 ms timeout, even on a loaded machine.
    later.expires_after(1s);
    later.async_wait([s, id = r.id](const boost::system::error_code&) { s.reply(id, "too late"); });
  });
  WsClient client(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, client));
  std::optional<RpcResult> slow;
  std::optional<RpcResult> fast;
  const auto t0 = std::chrono::steady_clock::now();
  client.call(0, "slow", json::array(), [&](RpcResult&& r) { slow = std::move(r); }, 100ms);
  client.call(0, "fast", json::array(), [&](RpcResult&& r) { fast = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return slow.has_value() && fast.has_value(); }));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(fast->ok());
  EXPECT_EQ(slow->kind, RpcErrorKind::timeout);
  EXPECT_GE(waited, 95ms);
  EXPECT_LT(waited, 900ms);
  EXPECT_EQ(client.counters().timeouts, 1u);
  ASSERT_TRUE(run_until(ioc, [&] { return client.counters().late_replies == 1; }));
  EXPECT_EQ(client.counters().bad_replies, 0u);
  EXPECT_TRUE(client.connected());  // a timeout does not drop the connection
}

TEST(WsNet, ServerKilledFailsPendingThenFailsOver) {
  boost::asio::io_context ioc;
  WsServer first(ioc, {}, [](const SessionHandle&, RpcRequest&&) { /* never answers */ });
  WsServer second(ioc, {}, echo_handler());
  WsClient client(ioc, client_config({url_of(first), url_of(second)}));
  std::vector<std::pair<WsState, std::string>> states;
  client.on_state([&](WsState st, const ConnectInfo& info, std::string_view) { states.emplace_back(st, info.url); });
  ASSERT_TRUE(connect(ioc, client));
  EXPECT_EQ(client.connect_info().url, url_of(first));
  constexpr int kPending = 50;
  int disconnected = 0;
  int other = 0;
  for (int i = 0; i < kPending; ++i) {
    client.call(0, "m", json::array(), [&](RpcResult&& r) {
      if (r.kind == RpcErrorKind::disconnected) {
        ++disconnected;
      } else {
        ++other;
      }
    });
  }
  ASSERT_TRUE(run_until(ioc, [&] { return first.stats().messages_in == kPending; }));
  first.stop();  // looks like a killed node: no close handshake
  ASSERT_TRUE(run_until(ioc, [&] { return disconnected + other == kPending; }));
  EXPECT_EQ(disconnected, kPending);
  EXPECT_EQ(client.counters().disconnects, 1u);
  ASSERT_TRUE(run_until(ioc, [&] { return client.connected(); }));
  EXPECT_EQ(client.connect_info().url, url_of(second));
  ASSERT_EQ(states.size(), 3u);
  EXPECT_EQ(states[1].first, WsState::disconnected);
  EXPECT_EQ(states[2], std::make_pair(WsState::connected, url_of(second)));
  std::optional<RpcResult> after;
  client.call(0, "again", json::array(), [&](RpcResult&& r) { after = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return after.has_value(); }));
  EXPECT_TRUE(after->ok());
  EXPECT_EQ(client.counters().connects, 2u);
}

TEST(WsNet, ReconnectsWhenTheNodeComesBack) {
  boost::asio::io_context ioc;
  uint16_t port = 0;
  {
    WsServer probe(ioc, {}, echo_handler());
    port = probe.port();
  }
  WsServerConfig server_cfg;
  server_cfg.port = port;
  WsClient client(ioc, client_config({"ws://127.0.0.1:" + std::to_string(port)}));
  int failures = 0;
  std::string last_error;
  client.on_state([&](WsState st, const ConnectInfo& info, std::string_view) {
    if (st == WsState::connect_failed) {
      ++failures;
      last_error = info.error;
      EXPECT_FALSE(info.tls_failure);
    }
  });
  client.start();
  ASSERT_TRUE(run_until(ioc, [&] { return failures >= 3; }));  // nothing listens: refused, retried with backoff
  EXPECT_NE(last_error.find("TCP connect"), std::string::npos) << last_error;
  EXPECT_GE(client.counters().connect_failures, 3u);
  EXPECT_EQ(client.counters().tls_failures, 0u);
  WsServer server(ioc, server_cfg, echo_handler());
  ASSERT_TRUE(run_until(ioc, [&] { return client.connected(); }));
  EXPECT_EQ(client.counters().connects, 1u);
}

TEST(WsNet, MalformedRepliesAreCountedAndSurvived) {
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, [](const SessionHandle& s, RpcRequest&& r) {
    if (r.method == "garbage") {
      s.send("this is not json");
      s.send("[1,2,3]");
      s.send("42");
      s.send(R"({"id":987654321,"result":1})");  // id never issued
      s.send(R"({"id":"abc","result":1})");
      s.send(R"({"id":-5,"result":1})");
      s.send(R"({"result":1})");
      s.send(std::string(300, '[') + std::string(300, ']'));
      s.send(R"({"id":)" + r.id.dump() + R"(,"jsonrpc":"2.0"})");  // neither result nor error
      return;
    }
    s.reply(r.id, "fine");
  });
  WsClient client(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, client));
  std::optional<RpcResult> garbage;
  std::optional<RpcResult> fine;
  client.call(0, "garbage", json::array(), [&](RpcResult&& r) { garbage = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return garbage.has_value(); }));
  client.call(0, "ok", json::array(), [&](RpcResult&& r) { fine = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return fine.has_value(); }));
  EXPECT_EQ(garbage->kind, RpcErrorKind::bad_reply);
  EXPECT_TRUE(fine->ok());
  EXPECT_EQ(client.counters().bad_replies, 9u);
  EXPECT_EQ(client.counters().disconnects, 0u);
  EXPECT_TRUE(client.connected());
}

// A minimal synchronous Beast websocket client, to send what WsClient never would.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : ws_(ioc_) {
    namespace beast = boost::beast;
    beast::get_lowest_layer(ws_).connect({boost::asio::ip::make_address("127.0.0.1"), port});
    ws_.handshake("127.0.0.1", "/");
  }
  json exchange(const std::string& text) {
    ws_.write(boost::asio::buffer(text));
    boost::beast::flat_buffer buffer;
    ws_.read(buffer);
    return json::parse(boost::beast::buffers_to_string(buffer.data()));
  }

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
};

TEST(WsNet, InvalidRequestsGetErrorReplies) {
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, [](const SessionHandle& s, RpcRequest&& r) {
    if (r.method == "throw") throw std::runtime_error("boom");
    s.reply(r.id, "ok");
  });
  auto guard = boost::asio::make_work_guard(ioc);
  std::thread io([&] { ioc.run(); });
  {
    RawClient raw(server.port());
    json reply = raw.exchange("{not json");
    EXPECT_TRUE(reply["id"].is_null());
    EXPECT_EQ(reply["jsonrpc"], "2.0");
    EXPECT_EQ(reply["error"]["code"], rpc_code::parse_error);
    EXPECT_EQ(reply["error"]["data"]["name"], "parse_error_exception");
    EXPECT_TRUE(reply["error"]["data"]["stack"].is_array());

    reply = raw.exchange(R"({"id":12,"method":"call","params":"oops"})");
    EXPECT_EQ(reply["id"], 12);
    EXPECT_EQ(reply["error"]["code"], rpc_code::invalid_arg);
    EXPECT_NE(reply["error"]["message"].get<std::string>().find("params"), std::string::npos);

    reply = raw.exchange(R"([{"id":1,"method":"m"}])");
    EXPECT_NE(reply["error"]["message"].get<std::string>().find("batch"), std::string::npos);

    reply = raw.exchange(R"({"id":13,"method":"call","params":[0,"throw",[]]})");
    EXPECT_EQ(reply["id"], 13);
    EXPECT_NE(reply["error"]["message"].get<std::string>().find("boom"), std::string::npos);

    // The session survived all of it.
    reply = raw.exchange(R"({"id":14,"method":"call","params":[0,"fine",[]]})");
    EXPECT_EQ(reply["result"], "ok");
  }
  boost::asio::post(ioc, [&] {
    EXPECT_EQ(server.stats().bad_requests, 3u);
    EXPECT_EQ(server.stats().handler_errors, 1u);
    server.stop();
    guard.reset();
  });
  io.join();
}

TEST(WsNet, NotConnectedFailsWithoutSending) {
  boost::asio::io_context ioc;
  WsClient client(ioc, client_config({"ws://127.0.0.1:1/"}));
  std::optional<RpcResult> result;
  bool inline_call = true;
  client.call(0, "m", json::array(), [&](RpcResult&& r) {
    EXPECT_FALSE(inline_call) << "callbacks must not run inside call()";
    result = std::move(r);
  });
  inline_call = false;
  ASSERT_TRUE(run_until(ioc, [&] { return result.has_value(); }));
  EXPECT_EQ(result->kind, RpcErrorKind::not_sent);
  EXPECT_EQ(client.counters().requests, 0u);
}

TEST(WsNet, StopFailsPendingAndClosesGracefully) {
  boost::asio::io_context ioc;
  std::vector<std::string> closes;
  WsServer server(ioc, {}, [](const SessionHandle&, RpcRequest&&) {}, {},
                  [&](SessionId, std::string_view reason) { closes.emplace_back(reason); });
  WsClient client(ioc, client_config({url_of(server)}));
  int states = 0;
  client.on_state([&](WsState, const ConnectInfo&, std::string_view) { ++states; });
  ASSERT_TRUE(connect(ioc, client));
  std::optional<RpcResult> result;
  client.call(0, "m", json::array(), [&](RpcResult&& r) { result = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return server.stats().messages_in == 1; }));
  client.stop();
  ASSERT_TRUE(result.has_value());  // failed synchronously inside stop()
  EXPECT_EQ(result->kind, RpcErrorKind::disconnected);
  EXPECT_FALSE(client.connected());
  ASSERT_TRUE(run_until(ioc, [&] { return closes.size() == 1; }));
  EXPECT_EQ(closes[0], "closed by peer");
  EXPECT_EQ(states, 1);  // no `disconnected` event for a deliberate stop
  EXPECT_EQ(client.counters().disconnects, 0u);
  run_for(ioc, 100ms);
  EXPECT_FALSE(client.connected());  // and no reconnect
  client.start();  // start again after stop
  ASSERT_TRUE(run_until(ioc, [&] { return client.connected(); }));
}

TEST(WsNet, MaxConnectionsRejectsTheRest) {
  boost::asio::io_context ioc;
  WsServerConfig cfg;
  cfg.max_connections = 1;
  WsServer server(ioc, cfg, echo_handler());
  WsClient one(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, one));
  auto two_cfg = client_config({url_of(server)});
  two_cfg.auto_reconnect = false;
  WsClient two(ioc, two_cfg);
  std::optional<WsState> state;
  two.on_state([&](WsState st, const ConnectInfo&, std::string_view) { state = st; });
  two.start();
  ASSERT_TRUE(run_until(ioc, [&] { return state.has_value(); }));
  EXPECT_EQ(*state, WsState::connect_failed);
  EXPECT_EQ(server.stats().rejected, 1u);
  EXPECT_EQ(two.counters().connect_failures, 1u);
  EXPECT_NE(two.connect_info().error.find("websocket handshake"), std::string::npos) << two.connect_info().error;
}

TEST(WsNet, ServerSideCloseAndSessionLookup) {
  boost::asio::io_context ioc;
  std::vector<SessionId> ids;
  WsServer server(ioc, {}, echo_handler(), [&](const SessionHandle& s) { ids.push_back(s.id()); });
  WsClient client(ioc, client_config({url_of(server)}));
  std::string reason;
  client.on_state([&](WsState st, const ConnectInfo&, std::string_view r) {
    if (st == WsState::disconnected) reason = r;
  });
  ASSERT_TRUE(connect(ioc, client));
  ASSERT_EQ(ids.size(), 1u);
  const SessionHandle handle = server.session(ids[0]);
  EXPECT_TRUE(handle.is_open());
  EXPECT_FALSE(handle.is_http());
  EXPECT_FALSE(handle.remote().empty());
  EXPECT_FALSE(server.session(12345).is_open());
  handle.close();
  ASSERT_TRUE(run_until(ioc, [&] { return !reason.empty(); }));
  EXPECT_NE(reason.find("closed by server (code 1000"), std::string::npos) << reason;
  EXPECT_FALSE(handle.is_open());
  EXPECT_FALSE(handle.send("x"));  // a stale handle is harmless
}

TEST(WsNet, SlowConsumerIsDroppedWhenItsQueueOverflows) {
  boost::asio::io_context ioc;
  WsServerConfig cfg;
  cfg.max_send_queue_bytes = 256 * 1024;
  int accepted = 0;
  int closed = 0;
  WsServer server(
      ioc, cfg,
      [&](const SessionHandle& s, RpcRequest&&) {
        // 100 frames of 64 KiB queued at once: far beyond 256 KiB before the first write completes.
        const std::string frame(64 * 1024, 'x');
        for (int i = 0; i < 100; ++i) accepted += s.send(frame) ? 1 : 0;
      },
      {}, [&](SessionId, std::string_view) { ++closed; });
  WsClient client(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, client));
  std::optional<RpcResult> result;
  client.call(0, "flood", json::array(), [&](RpcResult&& r) { result = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return result.has_value() && closed == 1; }));
  EXPECT_EQ(result->kind, RpcErrorKind::disconnected);
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(server.stats().send_queue_overflows, 1u);
  EXPECT_EQ(server.session_count(), 0u);
}

TEST(WsNet, IdlePingsKeepAQuietConnection) {
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, echo_handler());
  auto cfg = client_config({url_of(server)});
  cfg.idle_timeout = 500ms;
  WsClient client(ioc, cfg);
  ASSERT_TRUE(connect(ioc, client));
  run_for(ioc, 1600ms);  // several idle periods without traffic: pings are answered
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.counters().disconnects, 0u);
}

TEST(WsNet, BadConfigIsRefusedAtConstruction) {
  boost::asio::io_context ioc;
  EXPECT_THROW(WsClient(ioc, client_config({})), std::invalid_argument);
  EXPECT_THROW(WsClient(ioc, client_config({"http://127.0.0.1/"})), std::invalid_argument);
  try {
    WsClient c(ioc, client_config({"ws://h:0/"}));
    FAIL() << "port 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("urls[0]"), std::string::npos) << e.what();
  }
  // Credentials in a URL never reach the error text (issue 17).
  for (const char* url : {"ws://alice:s3cret@h:0/", "https://alice:s3cret@h/"}) {
    try {
      WsClient c(ioc, client_config({url}));
      FAIL() << "accepted " << url;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("<redacted>@h"), std::string::npos) << e.what();
    }
  }
  WsServerConfig bad;
  bad.address = "not-an-ip";
  EXPECT_THROW(WsServer(ioc, bad, echo_handler()), std::runtime_error);
}

TEST(WsNet, CallbackExceptionsAreContained) {
  boost::asio::io_context ioc;
  WsServer server(ioc, {}, echo_handler());
  WsClient client(ioc, client_config({url_of(server)}));
  ASSERT_TRUE(connect(ioc, client));
  bool second = false;
  client.call(0, "a", json::array(), [](RpcResult&&) { throw std::runtime_error("user bug"); });
  client.call(0, "b", json::array(), [&](RpcResult&& r) { second = r.ok(); });
  ASSERT_TRUE(run_until(ioc, [&] { return second; }));
  EXPECT_EQ(client.counters().callback_errors, 1u);
  EXPECT_TRUE(client.connected());
}

}  // namespace
}  // namespace bts::net
