// Tests for the JSON-RPC envelope helpers: request parsing (call / shortcut / bad shapes) and reply shapes.
#include "common/net/json_rpc.hpp"

#include <gtest/gtest.h>

namespace bts::net {
namespace {

using nlohmann::json;

TEST(JsonRpc, ParsesCallWithNumericApi) {
  RpcRequest req;
  RpcParseError err;
  ASSERT_TRUE(parse_rpc_request(R"({"id":7,"jsonrpc":"2.0","method":"call","params":[0,"get_block",[5]]})", req, err));
  EXPECT_EQ(req.id, 7);
  EXPECT_EQ(std::get<int64_t>(req.api), 0);
  EXPECT_EQ(req.method, "get_block");
  EXPECT_EQ(req.params, json::array({5}));
  EXPECT_TRUE(req.has_jsonrpc);
}

TEST(JsonRpc, ParsesCallWithNamedApiAndMissingArgs) {
  RpcRequest req;
  RpcParseError err;
  ASSERT_TRUE(parse_rpc_request(R"({"id":"a","method":"call","params":["network_broadcast","x"]})", req, err));
  EXPECT_EQ(req.id, "a");
  EXPECT_EQ(std::get<std::string>(req.api), "network_broadcast");
  EXPECT_EQ(req.method, "x");
  EXPECT_TRUE(req.params.is_array());
  EXPECT_TRUE(req.params.empty());
  EXPECT_FALSE(req.has_jsonrpc);
}

TEST(JsonRpc, ShortcutRoutesToApiZero) {
  RpcRequest req;
  RpcParseError err;
  ASSERT_TRUE(parse_rpc_request(R"({"id":1,"method":"get_chain_id","params":[]})", req, err));
  EXPECT_EQ(std::get<int64_t>(req.api), 0);
  EXPECT_EQ(req.method, "get_chain_id");
  EXPECT_TRUE(req.params.empty());
  ASSERT_TRUE(parse_rpc_request(R"({"id":2,"method":"get_chain_id"})", req, err));
  EXPECT_EQ(req.method, "get_chain_id");
}

TEST(JsonRpc, RejectsBadShapesKeepingTheId) {
  struct Case {
    const char* text;
    int64_t code;
    const char* reason;
    json id;
  };
  const Case cases[] = {
      {"not json", rpc_code::parse_error, "Parse Error", nullptr},
      {"", rpc_code::parse_error, "Parse Error", nullptr},
      {"[1,2]", rpc_code::invalid_arg, "batch", nullptr},
      {"42", rpc_code::invalid_arg, "JSON object", nullptr},
      {R"({"id":3})", rpc_code::invalid_arg, "'method'", 3},
      {R"({"id":4,"method":"call","params":"x"})", rpc_code::invalid_arg, "'params'", 4},
      {R"({"id":5,"method":"call","params":[0]})", rpc_code::invalid_arg, "[API", 5},
      {R"({"id":6,"method":"call","params":[true,"m",[]]})", rpc_code::invalid_arg, "params[0]", 6},
      {R"({"id":7,"method":"call","params":[0,5,[]]})", rpc_code::invalid_arg, "params[1]", 7},
      {R"({"id":8,"method":"call","params":[0,"m",{}]})", rpc_code::invalid_arg, "params[2]", 8},
      {R"({"id":9,"method":"call","params":[-1,"m",[]]})", rpc_code::invalid_arg, "negative", 9},
      {R"({"id":[1],"method":"m"})", rpc_code::invalid_arg, "'id'", nullptr},
  };
  for (const auto& c : cases) {
    RpcRequest req;
    RpcParseError err;
    EXPECT_FALSE(parse_rpc_request(c.text, req, err)) << c.text;
    EXPECT_EQ(err.code, c.code) << c.text;
    EXPECT_NE(err.message.find(c.reason), std::string::npos) << c.text << " → " << err.message;
    EXPECT_EQ(req.id, c.id) << c.text;
  }
}

TEST(JsonRpc, RefusesDeepNesting) {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  EXPECT_TRUE(json_depth_exceeds(deep, 250));
  EXPECT_FALSE(json_depth_exceeds(deep, 300));
  EXPECT_FALSE(json_depth_exceeds(R"({"a":"[[[[[[[[[[\"[[[["})", 3));  // brackets in strings don't count
  RpcRequest req;
  RpcParseError err;
  const std::string text = R"({"id":1,"method":"m","params":[)" + deep + "]}";
  EXPECT_FALSE(parse_rpc_request(text, req, err));
  EXPECT_EQ(err.code, rpc_code::parse_error);
  EXPECT_NE(err.message.find("deeper than 250"), std::string::npos);
}

TEST(JsonRpc, BuildsBitsharesShapes) {
  EXPECT_EQ(json::parse(make_rpc_result(5, json{{"a", 1}})),
            json::parse(R"({"id":5,"jsonrpc":"2.0","result":{"a":1}})"));
  EXPECT_EQ(json::parse(make_rpc_result(nullptr, nullptr)), json::parse(R"({"id":null,"jsonrpc":"2.0","result":null})"));
  EXPECT_EQ(json::parse(make_rpc_error(6, 10, "Assert Exception: x", "assert_exception")),
            json::parse(R"({"id":6,"jsonrpc":"2.0","error":{"code":10,"message":"Assert Exception: x",
                        "data":{"code":10,"name":"assert_exception","message":"Assert Exception: x","stack":[]}}})"));
  EXPECT_EQ(json::parse(make_rpc_notice(3, json::array({"abc"}))), json::parse(R"({"method":"notice","params":[3,[["abc"]]]})"));
  EXPECT_EQ(json::parse(make_rpc_call(9, int64_t{2}, "broadcast_transaction", json::array({1}))),
            json::parse(R"({"id":9,"method":"call","params":[2,"broadcast_transaction",[1]]})"));
  EXPECT_EQ(json::parse(make_rpc_call(1, std::string("database"), "get_chain_id", nullptr)),
            json::parse(R"({"id":1,"method":"call","params":["database","get_chain_id",[]]})"));
  EXPECT_EQ(make_rpc_call_tail(int64_t{0}, "m", json::array()), R"("method":"call","params":[0,"m",[]]})");
}

TEST(JsonRpc, InvalidUtf8NeverThrows) {
  const std::string bad = "bad \xff\xfe utf8";
  std::string out;
  EXPECT_NO_THROW(out = make_rpc_error(1, 0, bad));
  EXPECT_TRUE(json::accept(out));
  EXPECT_NO_THROW(out = make_rpc_result(1, json(bad)));
  EXPECT_TRUE(json::accept(out));
}

TEST(JsonRpc, RoundTripsThroughParser) {
  RpcRequest req;
  RpcParseError err;
  ASSERT_TRUE(parse_rpc_request(make_rpc_call(11, std::string("history"), "get_account_history",
                                              json::array({"1.2.17", "1.11.0", 10, "1.11.0"})),
                                req, err));
  EXPECT_EQ(req.id, 11);
  EXPECT_EQ(std::get<std::string>(req.api), "history");
  EXPECT_EQ(req.method, "get_account_history");
  EXPECT_EQ(req.params.size(), 4u);
}

}  // namespace
}  // namespace bts::net
