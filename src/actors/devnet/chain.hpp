// bts-devnet chain: state and rules of a one-producer BitShares chain, without networking.
//
// The Chain mirrors bitshares-core's database for the operations bts-stress sends
// (transfer, limit_order_create, limit_order_cancel), with the same order of checks and the same
// fc error codes and messages (libraries/chain/db_block.cpp _apply_transaction, evaluator.hpp,
// transfer_evaluator.cpp, market_evaluator.cpp, db_market.cpp, protocol/transaction.cpp):
//
//   push_transaction (network_broadcast_api::broadcast_transaction):
//     pool bound (devnet only) → validate (≥1 op, each op's validate()) → signature recovery
//     (header byte, fc-canonical, duplicate signature) → 1 MiB cap → _apply_transaction:
//     duplicate id → authority (missing active / unnecessary signatures) → [head > 0: TaPoS →
//     expiration too far → expired → maximum_transaction_size] → record id → operations
//     (fee asset and fee → evaluate → apply → fee deducted). A failure undoes the transaction.
//   produce_block(when): like _generate_block: pending state is undone and every pending
//     transaction re-applied in arrival order at the head block time; those that would overflow
//     maximum_block_size are postponed, those that fail are left out; the block is signed and
//     applied (block summary, expired transactions and orders); the left-over transactions are
//     then pushed again (failures dropped), as pending_transactions_restorer does.
//
// Single-threaded: call everything from one thread. Rejections are ChainError values; internally
// the evaluators throw (as fc's asserts do) and push_transaction catches at its boundary, so an
// accepted transaction pays nothing for error handling.
#pragma once

#include "actors/devnet/genesis.hpp"
#include "common/crypto/keys.hpp"
#include "common/protocol/json.hpp"
#include "common/protocol/transaction.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace bts::devnet {

using Json = protocol::Json;  // nlohmann::ordered_json: objects keep bitshares-core's field order

// fc exception codes the devnet reports (error.code and error.data.code).
namespace error_code {
inline constexpr std::int64_t unspecified = 0;               // fc::exception ("unspecified")
inline constexpr std::int64_t assert_exception = 10;         // FC_ASSERT
inline constexpr std::int64_t duplicate_transaction = 3030001;
inline constexpr std::int64_t tx_missing_active_auth = 4010001;
inline constexpr std::int64_t tx_irrelevant_sig = 4010004;
inline constexpr std::int64_t tx_duplicate_sig = 4010005;
inline constexpr std::int64_t insufficient_fee = 4010007;
inline constexpr std::int64_t limit_order_create_kill_unfilled = 3050101;
inline constexpr std::int64_t limit_order_create_insufficient_balance = 3050106;
inline constexpr std::int64_t limit_order_cancel_nonexist_order = 3050201;
inline constexpr std::int64_t limit_order_cancel_owner_mismatch = 3050202;
// Devnet only (the real node has no pending-pool bound): "pending pool full: ...".
inline constexpr std::int64_t pending_pool_full = 4990001;
}  // namespace error_code

// An error as fc reports it. message() is error.message of the JSON-RPC reply:
// what + ":" + (" " + each formatted log message), e.g. "Assert Exception: now <= trx.expiration: ".
struct ChainError {
    struct LogMessage {
        std::string format;  // fc format string with ${key} placeholders
        Json data = Json::object();
        std::string method;  // where (stack context), informational
    };
    std::int64_t code = error_code::assert_exception;
    std::string name = "assert_exception";  // error.data.name
    std::string what = "Assert Exception";  // error.data.message
    std::vector<LogMessage> stack;          // innermost first

    [[nodiscard]] std::string message() const;
    // error.data: {"code","name","message","stack":[{"context":{...},"format","data"}]}.
    [[nodiscard]] Json data_json() const;

    // FC_ASSERT(expr, msg): format "expr: msg".
    static ChainError assertion(std::string_view expr, std::string_view msg = {}, Json data = Json::object(),
                                std::string_view method = {});
    // GRAPHENE_ASSERT / FC_THROW_EXCEPTION with an exception type.
    static ChainError make(std::int64_t code, std::string_view name, std::string_view what, std::string_view format,
                           Json data = Json::object(), std::string_view method = {});
};

// fc::format_string: ${key} → data[key] (strings verbatim, anything else as JSON).
[[nodiscard]] std::string format_fc(std::string_view format, const Json& data);

struct ChainConfig {
    std::size_t max_pending = 100000;            // pending transactions; more → pending_pool_full
    std::chrono::nanoseconds apply_cost{0};      // busy-wait per operation on push (a slower node)
    bool trust_signatures = false;               // skip recovery and authority checks
    std::uint64_t block_history_bytes = 256ull << 20;  // blocks kept for get_block
    void validate() const;                       // throws util::ConfigError
};

// A transaction that passed push_transaction, with everything computed once.
struct PendingTx {
    protocol::SignedTransaction tx;
    protocol::TransactionId id{};
    protocol::Bytes packed;                  // signed bytes
    std::uint32_t unsigned_size = 0;         // what maximum_transaction_size limits
    std::vector<protocol::PublicKey> signers;  // recovered keys, sorted by address (fc order)
    [[nodiscard]] std::uint32_t block_size() const { return std::uint32_t(packed.size()) + 1; }  // + empty results
};

struct Block {
    std::uint32_t num = 0;
    protocol::BlockId id{};
    protocol::BlockId previous{};
    protocol::TimePointSec timestamp;
    protocol::WitnessId witness;
    protocol::FixedBytes<20> merkle_root{};
    protocol::Signature witness_signature{};
    std::uint32_t size = 0;     // packed signed_block bytes
    std::size_t op_count = 0;
    std::vector<std::uint8_t> tx_data;      // the transactions' signed bytes, concatenated
    std::vector<std::uint32_t> tx_offsets;  // start of each transaction in tx_data, + end
    [[nodiscard]] std::size_t tx_count() const { return tx_offsets.empty() ? 0 : tx_offsets.size() - 1; }
    [[nodiscard]] protocol::SignedTransaction transaction(std::size_t i) const;
};

struct ProducedBlock {
    const Block* block = nullptr;
    std::vector<std::shared_ptr<const PendingTx>> included;  // in block order
    std::size_t postponed = 0;  // left pending: block full
    std::size_t dropped = 0;    // failed on re-apply and on the push after the block
};

struct PushResult {
    std::optional<ChainError> error;
    protocol::TransactionId id{};
    std::shared_ptr<const PendingTx> tx;  // the accepted transaction
    [[nodiscard]] bool ok() const { return !error; }
};

struct ChainStats {
    std::uint64_t pushed = 0;     // accepted by push_transaction
    std::uint64_t rejected = 0;   // refused by push_transaction (any reason)
    std::uint64_t pool_full = 0;  // of which: pending pool full
    std::uint64_t included = 0;   // transactions in blocks
    std::uint64_t dropped = 0;    // accepted but never included (failed on re-apply)
    std::uint64_t blocks = 0;
};

struct AccountState {
    std::string name;
    protocol::Authority owner;
    protocol::Authority active;
    protocol::PublicKey memo_key;
};

struct AssetState {
    GenesisAsset genesis;
    std::uint64_t issuer = 0;
    std::int64_t current_supply = 0;
    std::int64_t fee_pool = 0;
    std::int64_t accumulated_fees = 0;
    [[nodiscard]] protocol::Price core_exchange_rate(std::uint64_t instance) const;
};

struct LimitOrder {
    std::uint64_t id = 0;
    protocol::TimePointSec expiration;
    std::uint64_t seller = 0;
    std::int64_t for_sale = 0;
    protocol::Price sell_price;  // base = selling, quote = receiving
    std::int64_t deferred_fee = 0;
    protocol::Asset deferred_paid_fee;
    [[nodiscard]] protocol::Asset amount_for_sale() const { return {for_sale, sell_price.base.asset_id}; }
    [[nodiscard]] protocol::Asset amount_to_receive() const;
};

class Chain {
public:
    // `start_time` is the head block time before the first block (genesis time).
    Chain(const Genesis& genesis, ChainConfig config, protocol::TimePointSec start_time);
    ~Chain();
    Chain(const Chain&) = delete;
    Chain& operator=(const Chain&) = delete;

    // network_broadcast_api::broadcast_transaction. On success the transaction is pending.
    PushResult push_transaction(protocol::SignedTransaction tx);
    // Cheap check a server can make before parsing a request.
    [[nodiscard]] bool pool_full() const { return pending_.size() >= config_.max_pending; }
    // The pending_pool_full error, counted as a rejection.
    [[nodiscard]] ChainError refuse_pool_full();

    // Produces and applies the next block with timestamp `when` (must not be before head time).
    ProducedBlock produce_block(protocol::TimePointSec when);

    // ---- read access -------------------------------------------------------------------------
    [[nodiscard]] const Genesis& genesis() const { return genesis_; }
    [[nodiscard]] const protocol::ChainId& chain_id() const { return genesis_.chain_id; }
    [[nodiscard]] const ChainConfig& config() const { return config_; }
    [[nodiscard]] std::uint32_t head_block_num() const { return head_num_; }
    [[nodiscard]] const protocol::BlockId& head_block_id() const { return head_id_; }
    [[nodiscard]] protocol::TimePointSec head_block_time() const { return head_time_; }
    [[nodiscard]] protocol::TimePointSec genesis_time() const { return genesis_time_; }
    [[nodiscard]] const ChainStats& stats() const { return stats_; }
    [[nodiscard]] std::size_t pending_count() const { return pending_.size(); }
    [[nodiscard]] std::size_t known_transaction_count() const { return known_.size(); }
    [[nodiscard]] std::uint64_t next_order_id() const { return next_order_id_; }

    [[nodiscard]] std::size_t account_count() const { return accounts_.size(); }
    [[nodiscard]] const AccountState* account(std::uint64_t instance) const;
    [[nodiscard]] std::optional<std::uint64_t> account_by_name(std::string_view name) const;
    // "1.2.N" or a name.
    [[nodiscard]] std::optional<std::uint64_t> find_account(std::string_view name_or_id) const;
    [[nodiscard]] std::size_t asset_count() const { return assets_.size(); }
    [[nodiscard]] const AssetState* asset(std::uint64_t instance) const;
    // "1.3.N" or a symbol.
    [[nodiscard]] std::optional<std::uint64_t> find_asset(std::string_view symbol_or_id) const;
    [[nodiscard]] std::int64_t balance(std::uint64_t account, std::uint64_t asset) const;
    [[nodiscard]] bool has_balance_object(std::uint64_t account, std::uint64_t asset) const;
    [[nodiscard]] const LimitOrder* order(std::uint64_t instance) const;
    // Orders selling `sell` for `receive`, best price first then oldest, at most `limit`.
    [[nodiscard]] std::vector<const LimitOrder*> order_book(std::uint64_t sell, std::uint64_t receive,
                                                            std::size_t limit) const;
    [[nodiscard]] std::size_t order_count() const { return orders_.size(); }

    // Block `num` if still kept (history is bounded by block_history_bytes).
    [[nodiscard]] const Block* block(std::uint32_t num) const;
    // A transaction known by id (pending or in a kept block, until it expires).
    struct TxLocation {
        std::uint32_t block_num = 0;  // 0 = pending
        std::uint32_t trx_num = 0;
        std::shared_ptr<const PendingTx> pending;
    };
    [[nodiscard]] std::optional<protocol::SignedTransaction> recent_transaction(const protocol::TransactionId& id) const;
    [[nodiscard]] bool is_known_transaction(const protocol::TransactionId& id) const;

    // Fee in core units for an operation (fee_schedule::calculate_fee, scaled).
    [[nodiscard]] std::int64_t required_core_fee(const protocol::Operation& op) const;
    // "1.00000 BTS" (asset_object::amount_to_pretty_string).
    [[nodiscard]] std::string pretty(const protocol::Asset& a) const;

private:
    struct Evaluation;
    struct UndoEntry;
    struct BookKeyLess {
        bool operator()(const std::pair<protocol::Price, std::uint64_t>& a,
                        const std::pair<protocol::Price, std::uint64_t>& b) const;
    };
    using Book = std::set<std::pair<protocol::Price, std::uint64_t>, BookKeyLess>;
    struct TxIdHash {
        std::size_t operator()(const protocol::TransactionId& id) const noexcept;
    };
    struct KnownTx {
        protocol::TimePointSec expiration;
        TxLocation where;
    };

    // _apply_transaction; throws ChainError.
    void apply_transaction(const std::shared_ptr<const PendingTx>& ptx);
    void verify_authority(const PendingTx& ptx) const;
    void apply_operation(const protocol::Operation& op);
    void apply_transfer(const protocol::TransferOp& op);
    void apply_limit_order_create(const protocol::LimitOrderCreateOp& op);
    void apply_limit_order_cancel(const protocol::LimitOrderCancelOp& op);

    // Fee handling shared by every evaluator (generic_evaluator::prepare_fee and friends).
    struct Fee {
        std::uint64_t payer = 0;
        protocol::Asset paid;        // fee_from_account
        std::int64_t core_paid = 0;  // core_fee_paid
    };
    Fee prepare_fee(std::uint64_t payer, const protocol::Asset& fee, const protocol::Operation& op);

    // Market (db_market.cpp).
    bool apply_order(std::uint64_t order_id);
    int match(std::uint64_t taker_id, std::uint64_t maker_id, const protocol::Price& match_price);
    bool fill_limit_order(std::uint64_t order_id, const protocol::Asset& pays, const protocol::Asset& receives,
                          bool cull_if_small);
    bool maybe_cull_small_order(std::uint64_t order_id);
    void cancel_limit_order(std::uint64_t order_id, bool create_virtual_op);
    void clear_expired_orders();

    // State changes, all undoable.
    void adjust_balance(std::uint64_t account, const protocol::Asset& delta);
    void adjust_asset(std::uint64_t asset, std::int64_t fee_pool_delta, std::int64_t accumulated_delta);
    void create_order(const LimitOrder& o);
    void remove_order(std::uint64_t id);
    void modify_order(std::uint64_t id, std::int64_t for_sale, std::int64_t deferred_fee,
                      const protocol::Asset& deferred_paid_fee);
    void record_known(const std::shared_ptr<const PendingTx>& ptx);
    std::size_t undo_mark() const;
    void undo_to(std::size_t mark);

    // Lookups that throw "Unable to find Object" like object_database::get.
    const AccountState& get_account(std::uint64_t instance) const;
    const AssetState& get_asset(std::uint64_t instance) const;

    void store_block(Block block);
    void clear_expired_transactions();
    void busy_wait(std::size_t ops) const;

    Genesis genesis_;
    ChainConfig config_;
    crypto::Context ctx_;
    crypto::PrivateKey witness_key_;

    std::vector<AccountState> accounts_;
    std::unordered_map<std::string, std::uint64_t> account_names_;
    std::vector<AssetState> assets_;
    std::unordered_map<std::string, std::uint64_t> asset_symbols_;
    std::vector<std::int64_t> balances_;      // [account * asset_count + asset]
    std::vector<std::uint8_t> balance_objects_;  // an account_balance_object exists
    std::unordered_map<std::uint64_t, LimitOrder> orders_;
    std::map<std::pair<std::uint64_t, std::uint64_t>, Book> books_;  // (sell, receive) → orders
    std::set<std::pair<std::uint32_t, std::uint64_t>> order_expirations_;
    std::uint64_t next_order_id_ = 0;

    std::unordered_map<protocol::TransactionId, KnownTx, TxIdHash> known_;
    // Included transactions by expiration, for clear_expired_transactions.
    std::priority_queue<std::pair<std::uint32_t, protocol::TransactionId>,
                        std::vector<std::pair<std::uint32_t, protocol::TransactionId>>,
                        std::greater<>> known_expirations_;

    std::vector<UndoEntry> undo_;  // since the head block: the pending state
    std::vector<std::shared_ptr<const PendingTx>> pending_;

    std::uint32_t head_num_ = 0;
    protocol::BlockId head_id_{};
    protocol::TimePointSec head_time_;
    protocol::TimePointSec genesis_time_;
    std::vector<protocol::BlockId> block_summaries_;  // 65536 slots: TaPoS
    std::deque<Block> blocks_;
    std::uint64_t block_bytes_ = 0;

    ChainStats stats_;
};

}  // namespace bts::devnet
