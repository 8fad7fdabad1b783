// TxFactory: builds the run's unsigned transactions — a weighted mix of transfer,
// limit_order_create and limit_order_cancel, N operations each, optionally filled to a target
// size — deterministically from a seed, with every transaction id unique within its expiration
// window. Pure: no I/O, no clock, no signing (the Preparer signs).
//
// Uniqueness (the node refuses a second copy of a transaction id until it expires, and the id
// covers only the unsigned bytes): transactions are issued in sequence with a non-decreasing
// expiration second X, and within one X the first amount-carrying operation gets a distinct
// amount, min + P_X(k) for the k-th transaction of that second, where P_X is a seeded
// permutation of [0, W) and W the narrowest amount range in use. When a second holds W
// transactions, X moves on by one. A transaction without such an operation cancels an order,
// and every order is cancelled at most once. So no two transactions of a run share their bytes.
//
// Expiration: set_reference() starts a batch with TaPoS block and an expiration floor; with a
// rate, X also follows the intended send time (floor + i / rate for the batch's i-th tx), so
// each transaction expires tx_lifetime after it is meant to be sent, not at the end of the run.
//
// All operations of one transaction are paid and signed by one account (one signature); accounts
// take turns (n mod accounts). Transfers go to another account of the run.
#pragma once

#include "actors/beacon/run_config.hpp"
#include "common/protocol/transaction.hpp"
#include "common/util/result.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace bts::beacon {

// Fee parameters as the chain keeps them (fee_schedule), so fees are computed as the node does:
// (base + bytes * per_kbyte / 1024) * scale / 10000.
struct FeeSchedule {
    std::int64_t transfer = 0;
    std::int64_t transfer_per_kbyte = 0;  // memo data fee
    std::int64_t limit_order_create = 0;
    std::int64_t limit_order_cancel = 0;
    std::uint32_t scale = 10000;  // GRAPHENE_100_PERCENT

    [[nodiscard]] std::int64_t fee(std::int64_t base, std::uint64_t data_bytes = 0,
                                   std::int64_t per_kbyte = 0) const;
};

struct FactoryAccount {
    std::string name;
    protocol::AccountId id;
    crypto::PublicKey key;  // the signing key; also used as memo from/to (memos are not encrypted)
};

struct FactorySetup {
    std::vector<FactoryAccount> accounts;
    FeeSchedule fees;
    protocol::AssetId fee_asset{0};  // fees and transfers: the core asset
    protocol::AssetId sell_asset{0};
    protocol::AssetId receive_asset{1};
    std::uint32_t max_transaction_size = 2048;  // chain parameter (unsigned packed bytes)
    MixWeights mix;
    TxShape shape;
    std::uint64_t seed = 1;
};

struct GeneratedTx {
    protocol::SignedTransaction tx;  // no signatures yet
    std::uint32_t signer = 0;        // index into FactorySetup::accounts
    std::uint64_t n = 0;             // sequence number within the run, from 0
};

struct FactoryCounters {
    std::uint64_t generated = 0;
    std::uint64_t transfers = 0;
    std::uint64_t orders_created = 0;
    std::uint64_t orders_cancelled = 0;
    std::uint64_t cancels_substituted = 0;  // cancel drawn but no open order left: created instead
    std::uint64_t filled = 0;               // transactions padded towards target_size
    std::uint64_t expiration_bumps = 0;     // seconds X moved on because W transactions used it
};

// The message when a target size is above the chain limit (also used by tests).
[[nodiscard]] std::string target_size_error(std::uint64_t target, std::uint32_t chain_max);

class TxFactory {
public:
    // Checks the setup against the chain (target size vs maximum_transaction_size, enough
    // accounts for transfers, ...). Errors are one line for the operator.
    [[nodiscard]] static util::Result<TxFactory> create(FactorySetup setup);

    // An open order of account `account` (index) that a limit_order_cancel may take. Each is
    // used at most once.
    void add_cancellable(std::uint32_t account, protocol::LimitOrderId order);
    [[nodiscard]] std::size_t cancellable() const;

    // Starts a batch: TaPoS from `ref_block`, expirations from `expiration_floor` (unix seconds)
    // on, advancing one second per `txs_per_second` transactions (0: constant floor).
    void set_reference(const protocol::BlockId& ref_block, std::uint32_t expiration_floor,
                       double txs_per_second);

    // Builds the next transaction. Reuses out's storage. Deterministic for a given setup and
    // sequence of calls.
    void next(GeneratedTx& out);

    [[nodiscard]] std::uint64_t generated() const { return n_; }
    [[nodiscard]] std::uint32_t last_expiration() const { return x_; }
    [[nodiscard]] const FactoryCounters& counters() const { return counters_; }
    [[nodiscard]] const FactorySetup& setup() const { return setup_; }
    // Transactions per expiration second before X must move on (the uniqueness capacity).
    [[nodiscard]] std::uint64_t per_second_capacity() const { return w_; }

private:
    explicit TxFactory(FactorySetup setup);
    enum class OpKind : std::uint8_t { transfer, create, cancel };
    OpKind draw_kind(std::uint64_t& rng, std::uint32_t signer);
    std::uint32_t other_account(std::uint64_t& rng, std::uint32_t signer) const;
    void fill_to_target(GeneratedTx& out, std::uint64_t& rng);

    FactorySetup setup_;
    protocol::Tapos tapos_{};
    std::uint32_t floor_ = 0;
    double rate_ = 0;
    std::uint64_t batch_first_n_ = 0;
    std::uint64_t n_ = 0;
    std::uint32_t x_ = 0;       // current expiration second
    std::uint64_t k_ = 0;       // transactions issued with expiration x_
    std::uint64_t w_ = 1;       // per-second capacity (narrowest amount range)
    std::uint64_t a_ = 1;       // permutation multiplier, coprime with w_
    std::vector<std::deque<protocol::LimitOrderId>> open_orders_;  // per account
    FactoryCounters counters_;
};

}  // namespace bts::beacon
