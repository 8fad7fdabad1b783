// bts-devnet actor: a Chain behind bitshares-core's websocket JSON-RPC API, producing a block
// every block_interval — all on one io_context thread.
//
// Wire (graphene-protocol.md §10): ws://ADDRESS:PORT (HTTP POST of the same JSON works too, but
// without notices). {"id":N,"method":"call","params":[API,"method",[args]]}; the shortcut
// {"id":N,"method":"get_chain_id","params":[]} goes to API 0. Replies {"id":N,"jsonrpc":"2.0",
// "result":...} or {"id":N,"jsonrpc":"2.0","error":{"code":C,"message":M,"data":{"code":C,
// "name":...,"message":...,"stack":[{"context":{...},"format":...,"data":{...}}]}}}. Any number
// of requests may be in flight per connection; bad JSON or a bad request shape gets an error
// reply (codes 4 / 5 from the net layer), never a crash.
//
// APIs per connection: 0 = database, 1 = login. [1,"network_broadcast",[]] (or "history",
// "orders", "custom_operations") creates the API on first use and returns its id (repeat calls
// return the same id); [1,"database",[]] returns 0. "block", "network_node", "crypto", "asset"
// and "debug" answer "Access denied" as a public node does. The API may also be given by name:
// ["network_broadcast","broadcast_transaction",[tx]].
//
// database (API 0):
//   get_chain_id, get_chain_properties, get_config, get_dynamic_global_properties,
//   get_global_properties, get_objects([ids]) for 2.0.0 2.1.0 2.11.0 1.2.x 1.3.x 2.3.x 1.7.x,
//   get_account_by_name(name), lookup_account_names([names]), get_accounts([names or ids]),
//   get_account_count, get_account_balances(account, [asset ids]) (alias
//   get_named_account_balances), get_assets([ids or symbols]), lookup_asset_symbols([symbols]),
//   get_required_fees([ops], asset), get_block(num), get_block_header(num[, with_signature]),
//   get_transaction(block_num, trx_num), get_limit_orders(a, b, limit ≤ 300),
//   get_account_limit_orders(account, base, quote[, limit ≤ 101]), get_transaction_hex(tx),
//   get_transaction_hex_without_sig(tx), get_recent_transaction_by_id(id),
//   set_block_applied_callback(cb) → notice [cb,["<block id>"]] per block,
//   cancel_all_subscriptions().
// login (API 1): login(user, password) → true, logout, get_available_api_sets, get_config, and the
//   API factories above.
// network_broadcast:
//   broadcast_transaction(tx) → null once the transaction is pending (errors are returned now);
//   broadcast_transaction_with_callback(cb, tx) → null; later notice
//     [cb,[{"id":txid,"block_num":N,"trx_num":i,"trx":{...}}]] when a block includes it;
//   broadcast_transaction_synchronous(tx) → that object, answered when a block includes it
//     (never, like the real node, if the transaction is dropped before inclusion).
//
// Errors: the fc codes and message texts of bitshares-core (see chain.hpp); a full pending pool
// answers code 4990001 "pending pool full: ..." before the transaction is decoded.
#pragma once

#include "actors/devnet/chain.hpp"
#include "actors/devnet/genesis.hpp"
#include "common/util/config.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace bts::devnet {

// [devnet] section of the config file; defaults are commented in config/devnet.toml.
struct DevnetConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8090;  // 0 = any free port (read it back with Devnet::port())
    std::string genesis;        // genesis TOML path; "" = the built-in config/genesis-dev.toml
    std::chrono::nanoseconds block_interval = std::chrono::seconds(5);
    ChainConfig chain;
    std::size_t max_connections = 1024;
    std::uint64_t max_message_bytes = 4u << 20;

    // Reads [devnet]. A relative genesis path given in a config file is relative to that file.
    static DevnetConfig from_toml(const util::TomlDoc& doc);
    void validate() const;  // throws util::ConfigError naming the key
};

struct DevnetStats {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;    // error replies sent by the devnet (not counting the net layer's)
    std::uint64_t notices = 0;
    std::uint64_t blocks = 0;
};

class Devnet {
public:
    // Binds and starts the block timer; serves once `ioc` runs. Throws std::runtime_error when the
    // address cannot be bound. `logger` null: spdlog's default logger.
    Devnet(boost::asio::io_context& ioc, DevnetConfig config, const Genesis& genesis,
           std::shared_ptr<spdlog::logger> logger = nullptr);
    ~Devnet();
    Devnet(const Devnet&) = delete;
    Devnet& operator=(const Devnet&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] const Chain& chain() const;
    [[nodiscard]] const DevnetStats& stats() const;
    // Produces a block now (tests); the timer keeps its schedule.
    void produce_block_now();
    // Stops the timer and drops every connection. Idempotent; the io_context then runs dry.
    void stop();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// A Devnet on its own thread with its own io_context: the embedded node for local runs and
// tests. The constructor returns once the port is bound (or throws what Devnet threw); the
// destructor stops the node and joins the thread.
class DevnetThread {
public:
    DevnetThread(DevnetConfig config, Genesis genesis, std::shared_ptr<spdlog::logger> logger = nullptr);
    ~DevnetThread();
    DevnetThread(const DevnetThread&) = delete;
    DevnetThread& operator=(const DevnetThread&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string url() const;  // ws://ADDRESS:PORT
    [[nodiscard]] const protocol::ChainId& chain_id() const { return chain_id_; }

private:
    struct State;
    std::unique_ptr<State> state_;
    std::uint16_t port_ = 0;
    std::string address_;
    protocol::ChainId chain_id_{};
};

}  // namespace bts::devnet
