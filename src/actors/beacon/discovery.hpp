// Discovery: what a beacon must learn from the node before it can sign — chain id, address
// prefix, chain limits (maximum_transaction_size, maximum_time_until_expiration), the fee
// schedule, the head block for TaPoS, account and asset ids, and (for cancels) the accounts'
// open orders. The parse_* functions are pure (tested on canned replies); Discovery runs the
// calls in sequence on one connected WsClient.
#pragma once

#include "actors/beacon/tx_factory.hpp"
#include "common/net/ws_client.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bts::beacon {

struct ChainInfo {
    protocol::ChainId chain_id{};
    std::string address_prefix = "BTS";
    std::uint32_t max_transaction_size = 2048;
    std::uint32_t max_time_until_expiration = 86400;
    std::uint32_t block_interval = 5;
    FeeSchedule fees;
    std::uint32_t head_block_num = 0;
    protocol::BlockId head_block_id{};
    std::uint32_t head_time = 0;  // unix seconds (chain time)
    std::vector<protocol::AccountId> account_ids;  // by account index
    protocol::AssetId sell_asset{0};
    protocol::AssetId receive_asset{1};
    // Open orders of the run's accounts in the sell/receive market: (account index, order).
    std::vector<std::pair<std::uint32_t, protocol::LimitOrderId>> open_orders;
    std::vector<std::string> warnings;  // things that did not stop discovery
};

// Each returns "" on success or a one-line reason.
[[nodiscard]] std::string parse_chain_id(const nlohmann::json& result, ChainInfo& out);
[[nodiscard]] std::string parse_config(const nlohmann::json& result, ChainInfo& out);
// parameters.{maximum_transaction_size, maximum_time_until_expiration, block_interval,
// current_fees{parameters:[[tag,{fee,price_per_kbyte}]...], scale}}.
[[nodiscard]] std::string parse_global_properties(const nlohmann::json& result, ChainInfo& out);
[[nodiscard]] std::string parse_dynamic_global_properties(const nlohmann::json& result, ChainInfo& out);
// lookup_account_names result (account objects or null), in the order of `names`; checks that
// each account's active authority lists the key we sign with (when it says so at all) — an
// error when check_keys, else a warning in out.warnings.
[[nodiscard]] std::string parse_accounts(const nlohmann::json& result, const std::vector<std::string>& names,
                                         const std::vector<crypto::PublicKey>& keys,
                                         std::string_view key_prefix, ChainInfo& out, bool check_keys = true);
// "1.3.N" → id; else nullopt (a symbol to look up).
[[nodiscard]] std::optional<protocol::AssetId> parse_asset_id(std::string_view text);

struct DiscoveryRequest {
    std::vector<std::string> account_names;
    std::vector<crypto::PublicKey> account_keys;
    std::string sell_asset;
    std::string receive_asset;
    bool need_assets = false;       // limit orders in the mix
    bool need_open_orders = false;  // cancels in the mix
    bool check_keys = true;         // a key missing from its active authority fails discovery
    std::chrono::milliseconds timeout{10'000};
};

// Runs the discovery calls in sequence on `client` (which must be connected) and calls `done`
// once, with "" and the result, or with the reason it failed. Owned by the caller; destroying
// it abandons the sequence (the client drops no callbacks, so it holds a weak reference).
class Discovery : public std::enable_shared_from_this<Discovery> {
public:
    using Done = std::function<void(const std::string& error, ChainInfo&& info)>;
    static std::shared_ptr<Discovery> run(net::WsClient& client, DiscoveryRequest request, Done done);

private:
    Discovery(net::WsClient& client, DiscoveryRequest request, Done done);
    using Step = void (Discovery::*)();
    void call(std::string_view method, nlohmann::json params,
              std::function<std::string(net::RpcResult&&)> handle, Step next);
    void finish(const std::string& error);
    void step_chain_id();
    void step_config();
    void step_global();
    void step_dynamic();
    void step_accounts();
    void step_assets();
    void step_orders();
    void step_done();

    net::WsClient& client_;
    DiscoveryRequest req_;
    Done done_;
    ChainInfo info_;
    std::size_t orders_pending_ = 0;
    bool finished_ = false;
};

}  // namespace bts::beacon
