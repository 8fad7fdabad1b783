// JSON-RPC envelope helpers for the BitShares (Graphene) websocket API: parse requests, build replies,
// errors, notices and calls in the exact shapes bitshares-core uses (graphene-protocol.md §10).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace bts::net {

// An API is addressed by number (0 = database, 1 = login, others handed out by login_api) or by
// the name of a login_api method ("network_broadcast", "database", "history", ...).
using RpcApi = std::variant<int64_t, std::string>;

// fc exception codes used for error replies (fc/exception/exception.hpp). The node puts the same
// code in error.code and error.data.code.
namespace rpc_code {
inline constexpr int64_t unspecified = 0;   // "unspecified_exception"
inline constexpr int64_t parse_error = 4;   // "parse_error_exception": the text is not JSON
inline constexpr int64_t invalid_arg = 5;   // "invalid_arg_exception": JSON, but not a request
inline constexpr int64_t assert_exception = 10;
}  // namespace rpc_code

// bitshares-core refuses JSON nested deeper than this on the websocket (GRAPHENE_NET_MAX_NESTED_OBJECTS).
inline constexpr std::size_t kMaxJsonDepth = 250;

// One request, normalised: `{"method":"call","params":[API,"m",[args]]}` and the shortcut
// `{"method":"m","params":[args]}` (routed to API 0, as the node does) both land here.
struct RpcRequest {
  nlohmann::json id;          // echoed verbatim in the reply; null when the request had none
  RpcApi api = int64_t{0};
  std::string method;
  nlohmann::json params = nlohmann::json::array();  // always an array
  bool has_jsonrpc = false;   // request carried "jsonrpc" (the node echoes "2.0" either way)
};

// Why a request was refused, ready to send back with make_rpc_error().
struct RpcParseError {
  int64_t code = rpc_code::parse_error;
  std::string name = "parse_error_exception";
  std::string message;  // one line naming the offending field
};

// Parses one request text. On failure returns false and fills `error`; `out.id` still holds the id
// when it could be read (null otherwise) so the caller can address the error reply. Never throws.
[[nodiscard]] bool parse_rpc_request(std::string_view text, RpcRequest& out, RpcParseError& error,
                                     std::size_t max_depth = kMaxJsonDepth);

// `{"id":ID,"jsonrpc":"2.0","result":RESULT}`. Never throws (invalid UTF-8 is replaced).
[[nodiscard]] std::string make_rpc_result(const nlohmann::json& id, const nlohmann::json& result);

// `{"id":ID,"jsonrpc":"2.0","error":{"code":C,"message":M,"data":{"code":C,"name":N,"message":M,"stack":[]}}}`.
[[nodiscard]] std::string make_rpc_error(const nlohmann::json& id, int64_t code, std::string_view message,
                                         std::string_view name = "exception");

// `{"method":"notice","params":[CALLBACK_ID,[PAYLOAD]]}`: the payload is wrapped in the argument array
// exactly as the node does for a one-argument std::function callback.
[[nodiscard]] std::string make_rpc_notice(uint64_t callback_id, const nlohmann::json& payload);

// `{"id":ID,"method":"call","params":[API,"METHOD",PARAMS]}`; `params` must be an array.
[[nodiscard]] std::string make_rpc_call(uint64_t id, const RpcApi& api, std::string_view method,
                                        const nlohmann::json& params);

// The part of a call after `{"id":N,`, i.e. `"method":"call","params":[API,"METHOD",PARAMS]}`.
// Pre-build it once and hand it to WsClient::send_raw(): the client prepends the id without
// re-serialising the body.
[[nodiscard]] std::string make_rpc_call_tail(const RpcApi& api, std::string_view method,
                                             const nlohmann::json& params);

// True when `text` nests arrays/objects deeper than `max_depth` (strings are skipped correctly).
// A cheap byte scan run before parsing untrusted input.
[[nodiscard]] bool json_depth_exceeds(std::string_view text, std::size_t max_depth) noexcept;

// JSON text of `value`, never throwing: invalid UTF-8 in strings is replaced with U+FFFD.
[[nodiscard]] std::string dump_json(const nlohmann::json& value);

}  // namespace bts::net
