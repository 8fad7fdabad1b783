// Integration tests: start the real bts-devnet (--port 0, fast blocks) and drive it over a real
// websocket with transactions signed by the protocol library and by the bts-tx program.
#include "actors/devnet/devnet.hpp"
#include "common/crypto/hash.hpp"
#include "common/crypto/keys.hpp"
#include "common/protocol/json.hpp"
#include "common/protocol/transaction.hpp"
#include "process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using json = nlohmann::json;
using namespace std::chrono_literals;
using namespace bts;
using protocol::AccountId;
using protocol::Asset;
using protocol::AssetId;
using protocol::SignedTransaction;

constexpr std::uint64_t kNathan = 17;
constexpr std::uint64_t kStress0 = 18;
constexpr std::uint64_t kStress1 = 19;
constexpr std::uint64_t kStress2 = 20;
constexpr std::int64_t kTransferFee = 2000000;

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// A running bts-devnet; port and chain id are read from its "listening on" log line.
class DevnetProcess {
public:
    explicit DevnetProcess(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"--port", "0", "--block-interval", "200ms"};
        args.insert(args.end(), extra.begin(), extra.end());
        child_ = std::make_unique<test::ChildProcess>(test::built_program("src/actors/devnet/bts-devnet"), args,
                                                      dir_.file("devnet.log"));
        if (!child_->wait_for_log("listening on ws://", 10s)) throw std::runtime_error("no start: " + child_->log());
        std::smatch m;
        std::string log = child_->log();
        if (!std::regex_search(log, m, std::regex(R"(listening on ws://127\.0\.0\.1:(\d+) chain_id=([0-9a-f]{64}))")))
            throw std::runtime_error("no port in log: " + log);
        port_ = std::uint16_t(std::stoi(m[1]));
        chain_id_ = *crypto::from_hex_fixed<32>(m[2].str());
    }
    std::uint16_t port() const { return port_; }
    const protocol::ChainId& chain_id() const { return chain_id_; }
    test::ChildProcess& child() { return *child_; }

private:
    test::TempDir dir_;
    std::unique_ptr<test::ChildProcess> child_;
    std::uint16_t port_ = 0;
    protocol::ChainId chain_id_{};
};

// A small synchronous websocket JSON-RPC client: replies are matched by id, notices queued.
class Client {
public:
    explicit Client(std::uint16_t port) : ws_(ioc_) {
        asio::ip::tcp::resolver resolver(ioc_);
        asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
        ws_.handshake("127.0.0.1:" + std::to_string(port), "/");
    }
    ~Client() {
        beast::error_code ec;
        ws_.close(websocket::close_code::normal, ec);
    }

    void send_text(const std::string& text) { ws_.write(asio::buffer(text)); }

    // Next message of any kind; nullopt on timeout.
    std::optional<json> read(std::chrono::milliseconds timeout = 5s) {
        if (!backlog_.empty()) {
            json j = std::move(backlog_.front());
            backlog_.pop_front();
            return j;
        }
        beast::flat_buffer buf;
        bool done = false;
        beast::error_code result;
        ws_.async_read(buf, [&](beast::error_code ec, std::size_t) {
            done = true;
            result = ec;
        });
        ioc_.restart();
        ioc_.run_for(timeout);
        if (!done) {
            ws_.next_layer().cancel();
            ioc_.restart();
            ioc_.run();
            // A cancelled websocket read leaves the stream unusable: the test fails anyway.
            return std::nullopt;
        }
        if (result) throw std::runtime_error("read: " + result.message());
        return json::parse(beast::buffers_to_string(buf.data()));
    }

    json call_raw(const std::string& text, std::uint64_t id) {
        send_text(text);
        return wait_reply(id);
    }
    json wait_reply(std::uint64_t id) {
        std::deque<json> other;
        for (;;) {
            auto m = read();
            if (!m) throw std::runtime_error("timeout waiting for reply " + std::to_string(id));
            if (m->contains("id") && (*m)["id"] == id) {
                for (auto& o : other) backlog_.push_back(std::move(o));
                return *m;
            }
            other.push_back(std::move(*m));
        }
    }
    // {"id":N,"method":"call","params":[api,method,params]} → the whole reply.
    json call(const json& api, const std::string& method, const json& params) {
        std::uint64_t id = next_id_++;
        json req = {{"id", id}, {"method", "call"}, {"params", json::array({api, method, params})}};
        return call_raw(req.dump(), id);
    }
    json result(const json& api, const std::string& method, const json& params) {
        json r = call(api, method, params);
        if (!r.contains("result")) throw std::runtime_error(method + " failed: " + r.dump());
        return r["result"];
    }
    // A call whose params embed pre-serialized JSON (the transaction text from the protocol library).
    json call_text(const json& api, const std::string& method, const std::string& params_text) {
        std::uint64_t id = next_id_++;
        std::string text = "{\"id\":" + std::to_string(id) + ",\"method\":\"call\",\"params\":[" + api.dump() +
                           ",\"" + method + "\"," + params_text + "]}";
        return call_raw(text, id);
    }
    std::optional<json> wait_notice(std::uint64_t cb, std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        std::deque<json> other;
        std::optional<json> found;
        while (std::chrono::steady_clock::now() < deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            auto m = read(left);
            if (!m) break;
            if (m->value("method", "") == "notice" && (*m)["params"][0] == cb) {
                found = std::move(m);
                break;
            }
            other.push_back(std::move(*m));
        }
        for (auto& o : other) backlog_.push_back(std::move(o));
        return found;
    }
    std::uint64_t next_id() { return next_id_++; }

private:
    asio::io_context ioc_;
    websocket::stream<asio::ip::tcp::socket> ws_;
    std::deque<json> backlog_;
    std::uint64_t next_id_ = 1;
};

crypto::PrivateKey key_for(const crypto::Context& ctx, std::uint64_t account) {
    if (account >= kStress0) return crypto::PrivateKey::from_seed(ctx, "bts-stress-devnet:stress-" + std::to_string(account - kStress0));
    return crypto::PrivateKey::from_seed(ctx, "nathan");
}

protocol::TransferOp transfer_op(std::uint64_t from, std::uint64_t to, std::int64_t amount, std::uint64_t asset = 0,
                                 std::int64_t fee = kTransferFee) {
    protocol::TransferOp op;
    op.fee = {fee, AssetId{0}};
    op.from = AccountId{from};
    op.to = AccountId{to};
    op.amount = {amount, AssetId{asset}};
    return op;
}

class DevnetTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { node_ = new DevnetProcess(); }
    static void TearDownTestSuite() {
        delete node_;
        node_ = nullptr;
    }
    void SetUp() override {
        client_ = std::make_unique<Client>(node_->port());
        broadcast_api_ = client_->result(1, "network_broadcast", json::array()).get<int>();
    }

    // A transaction referencing the head block, expiring `expire_in` seconds after head time.
    SignedTransaction make(std::vector<protocol::Operation> ops, std::int64_t expire_in = 60) {
        json dgp = client_->result(0, "get_dynamic_global_properties", json::array());
        SignedTransaction tx;
        auto head = *crypto::from_hex_fixed<20>(dgp["head_block_id"].get<std::string>());
        protocol::set_reference_block(tx, protocol::BlockId{head});
        auto now = protocol::from_iso_string(dgp["time"].get<std::string>())->seconds;
        tx.expiration = protocol::TimePointSec{std::uint32_t(now + expire_in)};
        tx.operations = std::move(ops);
        return tx;
    }
    void sign(SignedTransaction& tx, std::vector<crypto::PrivateKey> keys) {
        std::vector<const crypto::PrivateKey*> ptrs;
        for (auto& k : keys) ptrs.push_back(&k);
        protocol::sign(tx, node_->chain_id(), ptrs, ctx_);
    }
    json broadcast(const SignedTransaction& tx, const std::string& method = "broadcast_transaction") {
        return client_->call_text(broadcast_api_, method, "[" + protocol::to_json_text(tx) + "]");
    }
    void expect_error(const json& reply, std::int64_t code, std::string_view prefix) {
        ASSERT_TRUE(reply.contains("error")) << "expected " << prefix << ", got " << reply.dump();
        const json& e = reply["error"];
        EXPECT_EQ(e["code"], code) << e.dump();
        EXPECT_EQ(e["data"]["code"], code);
        EXPECT_TRUE(e["data"].contains("name"));
        EXPECT_TRUE(e["data"]["stack"].is_array());
        std::string msg = e["message"];
        EXPECT_TRUE(starts_with(msg, prefix)) << msg;
    }
    std::int64_t balance(std::uint64_t account, std::uint64_t asset = 0) {
        json b = client_->result(0, "get_account_balances",
                                 json::array({"1.2." + std::to_string(account), json::array({"1.3." + std::to_string(asset)})}));
        const json& amount = b[0]["amount"];
        return amount.is_string() ? std::stoll(amount.get<std::string>()) : amount.get<std::int64_t>();
    }
    // Wait until the head block number passes `num`.
    void wait_for_block_after(std::uint32_t num) {
        for (int i = 0; i < 100; ++i) {
            json dgp = client_->result(0, "get_dynamic_global_properties", json::array());
            if (dgp["head_block_number"].get<std::uint32_t>() > num) return;
            std::this_thread::sleep_for(50ms);
        }
        FAIL() << "no block after " << num;
    }
    std::uint32_t head() {
        return client_->result(0, "get_dynamic_global_properties", json::array())["head_block_number"].get<std::uint32_t>();
    }
    // Unique amounts keep transactions distinct across tests sharing one node.
    static std::int64_t unique() { return ++counter_; }

    static inline DevnetProcess* node_ = nullptr;
    static inline std::int64_t counter_ = 1000;
    crypto::Context ctx_;
    std::unique_ptr<Client> client_;
    int broadcast_api_ = 0;
};

// ---- API shapes --------------------------------------------------------------------------------

TEST_F(DevnetTest, ChainIdIsSha256OfTheDefaultGenesis) {
    std::string path = std::string(std::getenv("BTS_TEST_DATA")) + "/../../config/genesis-dev.toml";
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto expected = crypto::to_hex(crypto::sha256(ss.str()));
    // The shortcut form goes to API 0.
    json r = client_->call_raw(R"({"id":7,"method":"get_chain_id","params":[]})", 7);
    EXPECT_EQ(r["jsonrpc"], "2.0");
    EXPECT_EQ(r["result"], expected);
    EXPECT_EQ(client_->result(0, "get_chain_id", json::array()), expected);
    EXPECT_EQ(client_->result("database", "get_chain_id", json::array()), expected);
    EXPECT_EQ(client_->result(0, "get_chain_properties", json::array())["chain_id"], expected);
}

TEST_F(DevnetTest, LoginApiHandsOutApiIds) {
    EXPECT_EQ(client_->result(1, "login", json::array({"", ""})), true);
    EXPECT_EQ(broadcast_api_, 2);
    EXPECT_EQ(client_->result(1, "network_broadcast", json::array()), 2);
    EXPECT_EQ(client_->result(1, "database", json::array()), 0);
    EXPECT_EQ(client_->result(1, "history", json::array()), 3);
    expect_error(client_->call(1, "block", json::array()), 10, "Assert Exception: ");
    EXPECT_NE(client_->call(1, "block", json::array())["error"]["message"].get<std::string>().find("Access denied"),
              std::string::npos);
    expect_error(client_->call(9, "get_chain_id", json::array()), 10, "Assert Exception: _local_apis.size() > api_id: ");
    expect_error(client_->call(0, "no_such_method", json::array()), 10,
                 "Assert Exception: itr != _by_name.end(): no method with name 'no_such_method'");
    expect_error(client_->call("get_api_by_name", "x", json::array()), 10, "Assert Exception: ");
}

TEST_F(DevnetTest, DatabaseQueries) {
    EXPECT_EQ(client_->result(0, "get_config", json::array())["GRAPHENE_ADDRESS_PREFIX"], "BTS");
    json gp = client_->result(0, "get_global_properties", json::array());
    EXPECT_EQ(gp["parameters"]["maximum_transaction_size"], 2048);
    EXPECT_EQ(gp["parameters"]["current_fees"]["parameters"][0][1]["fee"], 2000000);
    json objs = client_->result(0, "get_objects",
                                json::array({json::array({"2.0.0", "2.1.0", "1.2.17", "1.3.0", "1.3.1", "1.7.999999", "9.9.9"})}));
    ASSERT_EQ(objs.size(), 7u);
    EXPECT_EQ(objs[0]["id"], "2.0.0");
    EXPECT_EQ(objs[1]["id"], "2.1.0");
    EXPECT_EQ(objs[2]["name"], "nathan");
    EXPECT_EQ(objs[3]["symbol"], "BTS");
    EXPECT_EQ(objs[4]["precision"], 4);
    EXPECT_TRUE(objs[5].is_null());
    EXPECT_TRUE(objs[6].is_null());
    json acc = client_->result(0, "get_account_by_name", json::array({"stress-0"}));
    EXPECT_EQ(acc["id"], "1.2.18");
    EXPECT_TRUE(client_->result(0, "get_account_by_name", json::array({"nobody"})).is_null());
    json names = client_->result(0, "lookup_account_names", json::array({json::array({"nathan", "nobody"})}));
    EXPECT_EQ(names[0]["id"], "1.2.17");
    EXPECT_TRUE(names[1].is_null());
    json op = json::parse(protocol::to_json(protocol::Operation{transfer_op(kStress0, kStress1, 1)}).dump());
    json fees = client_->result(0, "get_required_fees", json::array({json::array({op}), "1.3.0"}));
    EXPECT_EQ(fees[0]["amount"], 2000000);
    json usd_fees = client_->result(0, "get_required_fees", json::array({json::array({op}), "USD"}));
    EXPECT_EQ(usd_fees[0]["amount"], 40000);
    EXPECT_EQ(usd_fees[0]["asset_id"], "1.3.1");
    json bal = client_->result(0, "get_account_balances", json::array({"nathan", json::array()}));
    EXPECT_EQ(bal.size(), 2u);
}

TEST_F(DevnetTest, BadJsonAndBadShapesNeverCrash) {
    client_->send_text("this is not json");
    auto r = client_->read();
    ASSERT_TRUE(r);
    EXPECT_TRUE((*r)["id"].is_null());
    EXPECT_EQ((*r)["error"]["code"], 4);
    client_->send_text(R"({"id":5,"method":"call","params":"x"})");
    r = client_->read();
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["id"], 5);
    EXPECT_TRUE(r->contains("error"));
    client_->send_text(R"([1,2,3])");
    r = client_->read();
    ASSERT_TRUE(r && r->contains("error"));
    client_->send_text(std::string(300, '[') + std::string(300, ']'));
    r = client_->read();
    ASSERT_TRUE(r && r->contains("error"));
    // Wrong argument types and counts.
    expect_error(client_->call(0, "get_block", json::array({"abc"})), 7, "Bad Cast: ");
    expect_error(client_->call(0, "get_account_by_name", json::array()), 10, "Assert Exception: ");
    expect_error(client_->call(broadcast_api_, "broadcast_transaction", json::array({json{{"operations", 5}}})), 10,
                 "Assert Exception: ");
    expect_error(client_->call(broadcast_api_, "broadcast_transaction", json::array({42})), 10, "Assert Exception: ");
    // Still serving.
    EXPECT_EQ(client_->result(1, "login", json::array({"", ""})), true);
}

TEST_F(DevnetTest, ManyRequestsInFlight) {
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 50; ++i) {
        std::uint64_t id = client_->next_id();
        ids.push_back(id);
        client_->send_text(json{{"id", id}, {"method", "call"}, {"params", json::array({0, "get_chain_id", json::array()})}}.dump());
    }
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 50; ++i) {
        auto r = client_->read();
        ASSERT_TRUE(r);
        seen.insert((*r)["id"].get<std::uint64_t>());
        EXPECT_TRUE(r->contains("result"));
    }
    EXPECT_EQ(seen, std::set<std::uint64_t>(ids.begin(), ids.end()));
}

// ---- transactions ------------------------------------------------------------------------------

TEST_F(DevnetTest, AcceptedTransferChangesBalancesAndIsIncludedWithNotice) {
    std::int64_t amount = unique();
    auto before0 = balance(kStress0);
    auto before1 = balance(kStress1);
    auto tx = make({transfer_op(kStress0, kStress1, amount)});
    sign(tx, {key_for(ctx_, kStress0)});
    std::uint64_t cb = 4242;
    json r = client_->call_text(broadcast_api_, "broadcast_transaction_with_callback",
                                "[" + std::to_string(cb) + "," + protocol::to_json_text(tx) + "]");
    ASSERT_TRUE(r.contains("result")) << r.dump();
    EXPECT_TRUE(r["result"].is_null());
    // The API reads the pending state, as the real node's does.
    EXPECT_EQ(balance(kStress0), before0 - amount - kTransferFee);
    EXPECT_EQ(balance(kStress1), before1 + amount);

    auto notice = client_->wait_notice(cb, 5s);
    ASSERT_TRUE(notice);
    const json& conf = (*notice)["params"][1][0];
    std::string txid = crypto::to_hex(protocol::transaction_id(tx).data);
    EXPECT_EQ(conf["id"], txid);
    EXPECT_GE(conf["block_num"].get<std::uint32_t>(), 1u);
    EXPECT_TRUE(conf["trx"]["operation_results"].is_array());
    EXPECT_EQ(conf["trx"]["signatures"][0], crypto::to_hex(tx.signatures[0]));

    json block = client_->result(0, "get_block", json::array({conf["block_num"]}));
    const json& txs = block["transactions"];
    std::uint32_t trx_num = conf["trx_num"];
    ASSERT_GT(txs.size(), trx_num);
    EXPECT_EQ(txs[trx_num]["signatures"][0], crypto::to_hex(tx.signatures[0]));
    EXPECT_FALSE(block.contains("id"));
    EXPECT_TRUE(block.contains("witness_signature"));
    json header = client_->result(0, "get_block_header", json::array({conf["block_num"]}));
    EXPECT_EQ(header["previous"], block["previous"]);
    json recent = client_->result(0, "get_recent_transaction_by_id", json::array({txid}));
    EXPECT_EQ(recent["signatures"][0], crypto::to_hex(tx.signatures[0]));
    json hex = client_->result(0, "get_transaction_hex", json::array({json::parse(protocol::to_json_text(tx))}));
    EXPECT_EQ(hex, crypto::to_hex(protocol::pack_signed(tx)));
}

TEST_F(DevnetTest, SynchronousBroadcastAnswersAtInclusion) {
    auto tx = make({transfer_op(kStress1, kStress2, unique())});
    sign(tx, {key_for(ctx_, kStress1)});
    json r = broadcast(tx, "broadcast_transaction_synchronous");
    ASSERT_TRUE(r.contains("result")) << r.dump();
    EXPECT_EQ(r["result"]["id"], crypto::to_hex(protocol::transaction_id(tx).data));
    EXPECT_GE(r["result"]["block_num"].get<std::uint32_t>(), 1u);
}

TEST_F(DevnetTest, BlockAppliedCallback) {
    EXPECT_TRUE(client_->result(0, "set_block_applied_callback", json::array({77})).is_null());
    auto n = client_->wait_notice(77, 3s);
    ASSERT_TRUE(n);
    std::string id = (*n)["params"][1][0];
    EXPECT_EQ(id.size(), 40u);
    json dgp = client_->result(0, "get_dynamic_global_properties", json::array());
    EXPECT_GE(dgp["head_block_number"].get<std::uint32_t>(), std::stoul(id.substr(0, 8), nullptr, 16));
    EXPECT_TRUE(client_->result(0, "cancel_all_subscriptions", json::array()).is_null());
}

TEST_F(DevnetTest, EveryRejectionClass) {
    wait_for_block_after(0);  // TaPoS and expiration apply once there is a block
    auto k0 = key_for(ctx_, kStress0);

    // duplicate
    auto dup = make({transfer_op(kStress0, kStress1, unique())});
    sign(dup, {k0});
    ASSERT_TRUE(broadcast(dup).contains("result"));
    expect_error(broadcast(dup), 3030001, "duplicate transaction: Transaction '" +
                                              crypto::to_hex(protocol::transaction_id(dup).data) +
                                              "' is already in the database");
    // expired
    auto expired = make({transfer_op(kStress0, kStress1, unique())}, -1);
    sign(expired, {k0});
    expect_error(broadcast(expired), 10, "Assert Exception: now <= trx.expiration: ");
    // too far in the future
    auto far = make({transfer_op(kStress0, kStress1, unique())}, 86400 + 10);
    sign(far, {k0});
    expect_error(broadcast(far), 10,
                 "Assert Exception: trx.expiration <= now + chain_parameters.maximum_time_until_expiration: ");
    // bad TaPoS
    auto tapos = make({transfer_op(kStress0, kStress1, unique())});
    tapos.ref_block_prefix ^= 0x5a5a;
    sign(tapos, {k0});
    expect_error(broadcast(tapos), 10,
                 "Assert Exception: trx.ref_block_prefix == tapos_block_summary.block_id._hash[1].value(): ");
    // wrong key
    auto wrong = make({transfer_op(kStress0, kStress1, unique())});
    sign(wrong, {key_for(ctx_, kStress2)});
    expect_error(broadcast(wrong), 4010001, "missing required active authority: Missing Active Authority 1.2.18");
    // non-canonical signature
    auto nc = make({transfer_op(kStress0, kStress1, unique())});
    sign(nc, {k0});
    nc.signatures[0][1] |= 0x80;
    expect_error(broadcast(nc), 10, "Assert Exception: is_canonical( c ): signature is not canonical");
    // unnecessary signature
    auto extra = make({transfer_op(kStress0, kStress1, unique())});
    sign(extra, {k0, key_for(ctx_, kNathan)});
    expect_error(broadcast(extra), 4010004, "irrelevant signature included: Unnecessary signature(s) detected");
    // insufficient fee
    auto cheap = make({transfer_op(kStress0, kStress1, unique(), 0, kTransferFee - 1)});
    sign(cheap, {k0});
    expect_error(broadcast(cheap), 4010007, "insufficient fee: Insufficient Fee Paid");
    // insufficient balance
    auto poor = make({transfer_op(kStress0, kStress1, 900000000000000)});
    sign(poor, {k0});
    expect_error(broadcast(poor), 10, "Assert Exception: insufficient_balance: Insufficient Balance: ");
    // too large
    auto big_op = transfer_op(kStress0, kStress1, unique(), 0, 100000000);
    protocol::Memo memo;
    memo.from = k0.public_key();
    memo.to = key_for(ctx_, kStress1).public_key();
    memo.message.data.assign(2100, 7);
    big_op.memo = memo;
    auto big = make({big_op});
    sign(big, {k0});
    expect_error(broadcast(big), 10,
                 "Assert Exception: head_block_time() <= HARDFORK_CORE_1573_TIME || trx.get_packed_size() <= "
                 "chain_parameters.maximum_transaction_size: Transaction exceeds maximum transaction size.");
    // order not found / not owner
    protocol::LimitOrderCancelOp cancel;
    cancel.fee_paying_account = AccountId{kStress0};
    cancel.order = protocol::LimitOrderId{987654};
    auto missing = make({cancel});
    sign(missing, {k0});
    expect_error(broadcast(missing), 3050201, "Order does not exist: Limit order 1.7.987654 does not exist");

    protocol::LimitOrderCreateOp order;
    order.fee = {500000, AssetId{0}};
    order.seller = AccountId{kStress1};
    order.amount_to_sell = {unique(), AssetId{0}};
    order.min_to_receive = {1000000000, AssetId{1}};  // far from any crossing
    auto place = make({order});
    sign(place, {key_for(ctx_, kStress1)});
    json placed = broadcast(place, "broadcast_transaction_synchronous");
    ASSERT_TRUE(placed.contains("result")) << placed.dump();
    json mine = client_->result(0, "get_account_limit_orders", json::array({"stress-1", "BTS", "USD", 101}));
    ASSERT_FALSE(mine.empty());
    std::string oid;
    for (const auto& o : mine)
        if (o["for_sale"] == order.amount_to_sell.amount) oid = o["id"];
    ASSERT_FALSE(oid.empty());
    cancel.order = protocol::LimitOrderId{std::stoull(oid.substr(4))};
    auto steal = make({cancel});
    sign(steal, {k0});
    expect_error(broadcast(steal), 3050202, "Order owned by someone else: Limit order " + oid + " is owned by someone else");
}

TEST_F(DevnetTest, CrossingLimitOrdersFillAndFillOrKill) {
    auto k0 = key_for(ctx_, kStress0);
    auto k2 = key_for(ctx_, kStress2);
    // stress-0 sells USD at a price nobody else uses in this suite (7 BTS units per USD unit).
    std::int64_t usd = 10000 + unique();
    protocol::LimitOrderCreateOp ask;
    ask.fee = {500000, AssetId{0}};
    ask.seller = AccountId{kStress0};
    ask.amount_to_sell = {usd, AssetId{1}};
    ask.min_to_receive = {usd * 7, AssetId{0}};
    auto t1 = make({ask});
    sign(t1, {k0});
    ASSERT_TRUE(broadcast(t1).contains("result"));
    // fill_or_kill that asks for more than the book holds at this price is killed.
    protocol::LimitOrderCreateOp fok;
    fok.fee = {500000, AssetId{0}};
    fok.seller = AccountId{kStress2};
    fok.amount_to_sell = {usd * 7 * 3, AssetId{0}};
    fok.min_to_receive = {usd * 3, AssetId{1}};
    fok.fill_or_kill = true;
    auto t2 = make({fok});
    sign(t2, {k2});
    expect_error(broadcast(t2), 3050101, "Killing limit order due to unable to fill: Killing limit order {");

    auto usd_before = balance(kStress2, 1);
    auto bts_before0 = balance(kStress0, 0);
    protocol::LimitOrderCreateOp bid = fok;
    bid.amount_to_sell = {usd * 7, AssetId{0}};
    bid.min_to_receive = {usd, AssetId{1}};
    auto t3 = make({bid});
    sign(t3, {k2});
    json r = broadcast(t3);
    ASSERT_TRUE(r.contains("result")) << r.dump();
    EXPECT_EQ(balance(kStress2, 1), usd_before + usd);
    EXPECT_EQ(balance(kStress0, 0), bts_before0 + usd * 7);
    json book = client_->result(0, "get_limit_orders", json::array({"USD", "BTS", 300}));
    for (const auto& o : book) EXPECT_NE(o["for_sale"], usd) << o.dump();
}

TEST_F(DevnetTest, SignedByTheBtsTxProgram) {
    std::string bts_tx = test::built_program("src/tools/bts-tx/bts-tx");
    if (!std::filesystem::exists(bts_tx)) GTEST_SKIP() << "bts-tx not built";
    test::TempDir dir;
    std::string key_file = dir.write("key.wif", key_for(ctx_, kStress2).to_wif() + "\n", 0600);
    auto tx = make({transfer_op(kStress2, kStress0, unique())});
    auto signed_out = test::run_program(bts_tx,
                                        {"sign", "--chain-id", crypto::to_hex(node_->chain_id()), "--key-file", key_file},
                                        protocol::to_json_text(tx));
    ASSERT_EQ(signed_out.exit_code, 0) << signed_out.err;
    json r = client_->call_text(broadcast_api_, "broadcast_transaction", "[" + signed_out.out + "]");
    EXPECT_TRUE(r.contains("result")) << r.dump();
}

// ---- program behaviour -------------------------------------------------------------------------

TEST(DevnetProgram, HelpVersionAndBadConfig) {
    std::string exe = test::built_program("src/actors/devnet/bts-devnet");
    auto help = test::run_program(exe, {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--block-interval"), std::string::npos);
    auto version = test::run_program(exe, {"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.out.find("bts-devnet"), std::string::npos);
    auto bad = test::run_program(exe, {"--block-interval", "1ms", "--port", "0"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("block_interval"), std::string::npos) << bad.err;
    test::TempDir dir;
    auto missing = test::run_program(exe, {"--genesis", dir.file("nope.toml"), "--port", "0"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("nope.toml"), std::string::npos) << missing.err;
}

TEST(DevnetProgram, CleanShutdownOnSigterm) {
    DevnetProcess node;
    ASSERT_TRUE(node.child().wait_for_log("block #1 ", 5s));
    node.child().signal(SIGTERM);
    EXPECT_EQ(node.child().wait(5s), 0);
    EXPECT_NE(node.child().log().find("stopped"), std::string::npos);
}

TEST(DevnetProgram, PendingPoolFullIsRefused) {
    DevnetProcess node({"--max-pending", "2", "--block-interval", "30s"});
    Client c(node.port());
    crypto::Context ctx;
    int api = c.result(1, "network_broadcast", json::array()).get<int>();
    auto k = key_for(ctx, kStress0);
    // A block may empty the pool between two pushes: keep pushing until one is refused.
    int accepted = 0;
    bool refused = false;
    for (int i = 0; i < 8 && !refused; ++i) {
        SignedTransaction tx;
        tx.expiration = protocol::TimePointSec{std::uint32_t(std::time(nullptr) + 60)};
        tx.operations = {transfer_op(kStress0, kStress1, 1 + i)};
        std::vector<const crypto::PrivateKey*> keys{&k};
        protocol::sign(tx, node.chain_id(), keys, ctx);
        json r = c.call_text(api, "broadcast_transaction", "[" + protocol::to_json_text(tx) + "]");
        if (r.contains("result")) {
            ++accepted;
            continue;
        }
        refused = true;
        EXPECT_EQ(r["error"]["code"], 4990001) << r.dump();
        EXPECT_TRUE(starts_with(r["error"]["message"], "pending pool full: ")) << r.dump();
    }
    EXPECT_TRUE(refused);
    EXPECT_GE(accepted, 2);
}

TEST(DevnetProgram, TrustSignaturesAcceptsUnsigned) {
    DevnetProcess node({"--trust-signatures"});
    Client c(node.port());
    int api = c.result(1, "network_broadcast", json::array()).get<int>();
    SignedTransaction tx;
    tx.expiration = protocol::TimePointSec{std::uint32_t(std::time(nullptr) + 60)};
    tx.operations = {transfer_op(kStress0, kStress1, 5)};
    json r = c.call_text(api, "broadcast_transaction", "[" + protocol::to_json_text(tx) + "]");
    EXPECT_TRUE(r.contains("result")) << r.dump();
    EXPECT_NE(node.child().log().find("TRUSTED"), std::string::npos);
}

TEST(DevnetThreadTest, EmbeddedNodeServesAndStops) {
    devnet::DevnetConfig cfg;
    cfg.port = 0;
    cfg.block_interval = 100ms;
    auto genesis = devnet::Genesis::built_in();
    devnet::DevnetThread node(cfg, genesis);
    EXPECT_EQ(node.url(), "ws://127.0.0.1:" + std::to_string(node.port()));
    Client c(node.port());
    EXPECT_EQ(c.result(0, "get_chain_id", json::array()), crypto::to_hex(genesis.chain_id));
    EXPECT_EQ(c.result(1, "network_broadcast", json::array()), 2);
}

TEST(DevnetThreadTest, BindFailureIsReported) {
    devnet::DevnetConfig cfg;
    cfg.address = "203.0.113.1";  // TEST-NET-3: not a local address
    cfg.port = 0;
    EXPECT_THROW(devnet::DevnetThread(cfg, devnet::Genesis::built_in()), std::exception);
}

}  // namespace
