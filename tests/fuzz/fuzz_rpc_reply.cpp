// Fuzz target: a node's JSON-RPC reply as the beacon and bts-uptime read it: the websocket
// client's depth guard and parse, then the beacon's discovery parsers and uptime's field parsers
// on the `result` (or the whole document when it has none).
#include "actors/beacon/discovery.hpp"
#include "actors/uptime/classify.hpp"
#include "common/net/json_rpc.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // The server side of the same protocol (bts-devnet) parses requests from the same bytes.
    bts::net::RpcRequest request;
    bts::net::RpcParseError request_error;
    (void)bts::net::parse_rpc_request(text, request, request_error);
    if (bts::net::json_depth_exceeds(text, bts::net::kMaxJsonDepth)) return 0;
    const nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) return 0;
    const nlohmann::json& result = doc.is_object() && doc.contains("result") ? doc["result"] : doc;
    bts::beacon::ChainInfo info;
    (void)bts::beacon::parse_chain_id(result, info);
    (void)bts::beacon::parse_config(result, info);
    (void)bts::beacon::parse_global_properties(result, info);
    (void)bts::beacon::parse_dynamic_global_properties(result, info);
    (void)bts::beacon::parse_accounts(result, {"alice", "bob"}, {}, "BTS", info, false);
    if (result.is_string()) {
        const auto& s = result.get_ref<const std::string&>();
        (void)bts::beacon::parse_asset_id(s);
        (void)bts::uptime::participation_from_slots(s);
        (void)bts::uptime::parse_node_time(s);
    }
    (void)bts::net::dump_json(doc);
    return 0;
}
