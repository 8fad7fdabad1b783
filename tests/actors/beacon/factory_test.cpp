// Unit tests of transaction generation and tracking: factory determinism, uniqueness of 1 M
// transaction ids, target sizes and the chain-limit refusal, parallel signing, and the tracker's
// bookkeeping of replies, inclusion and expiry.
#include "actors/beacon/preparer.hpp"
#include "actors/beacon/tracker.hpp"
#include "actors/beacon/tx_factory.hpp"

#include "common/crypto/hash.hpp"
#include "common/protocol/json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unordered_set>

namespace bts::beacon {
namespace {

using namespace protocol;

struct Fixture {
    crypto::Context ctx;
    std::vector<crypto::PrivateKey> keys;
    FactorySetup setup;

    explicit Fixture(std::size_t accounts = 10) {
        for (std::size_t i = 0; i < accounts; ++i) {
            keys.push_back(crypto::PrivateKey::from_seed(ctx, "bts-stress-devnet:stress-" + std::to_string(i)));
            setup.accounts.push_back({"stress-" + std::to_string(i), AccountId{18 + i}, keys.back().public_key()});
        }
        setup.fees.transfer = 2000000;
        setup.fees.transfer_per_kbyte = 1000000;
        setup.fees.limit_order_create = 500000;
        setup.sell_asset = AssetId{0};
        setup.receive_asset = AssetId{1};
        setup.max_transaction_size = 2048;
        setup.seed = 7;
    }
    TxFactory factory() {
        auto f = TxFactory::create(setup);
        if (!f) throw std::runtime_error(f.error());
        BlockId ref;
        ref.data[3] = 100;
        ref.data[4] = 0xab;
        f->set_reference(ref, 1'700'000'000, 0);
        return std::move(*f);
    }
};

struct IdHash {
    std::size_t operator()(const TransactionId& id) const {
        std::size_t h;
        std::memcpy(&h, id.data.data(), sizeof h);
        return h;
    }
};

TEST(TxFactory, SameSeedSameTransactionsOtherSeedOthers) {
    Fixture fx;
    fx.setup.mix = {1, 1, 0};
    fx.setup.shape.ops_min = 1;
    fx.setup.shape.ops_max = 4;
    auto a = fx.factory();
    auto b = fx.factory();
    fx.setup.seed = 8;
    auto c = fx.factory();
    GeneratedTx ta, tb, tc;
    int differ = 0;
    for (int i = 0; i < 1000; ++i) {
        a.next(ta);
        b.next(tb);
        c.next(tc);
        ASSERT_EQ(pack_unsigned(ta.tx), pack_unsigned(tb.tx)) << i;
        differ += pack_unsigned(ta.tx) != pack_unsigned(tc.tx);
        EXPECT_EQ(ta.signer, static_cast<std::uint32_t>(i % 10));
        ASSERT_GE(ta.tx.operations.size(), 1u);
        ASSERT_LE(ta.tx.operations.size(), 4u);
    }
    EXPECT_GT(differ, 990);
    EXPECT_GT(a.counters().transfers, 0u);
    EXPECT_GT(a.counters().orders_created, 0u);
}

TEST(TxFactory, OperationsAreValidAndWithinRanges) {
    Fixture fx;
    fx.setup.mix = {1, 1, 0};
    fx.setup.shape.transfer_amount = {100, 200};
    fx.setup.shape.order_amount = {1000, 5000};
    fx.setup.shape.price_min = 0.5;
    fx.setup.shape.price_max = 2.0;
    auto f = fx.factory();
    GeneratedTx t;
    for (int i = 0; i < 2000; ++i) {
        f.next(t);
        EXPECT_EQ(t.tx.expiration.seconds >= 1'700'000'000u, true);
        for (const auto& op : t.tx.operations) {
            EXPECT_FALSE(validate(op)) << *validate(op);
            if (auto* tr = std::get_if<TransferOp>(&op)) {
                EXPECT_GE(tr->amount.amount, 100);
                EXPECT_LE(tr->amount.amount, 200);
                EXPECT_EQ(tr->fee.amount, 2000000);
                EXPECT_EQ(tr->from, fx.setup.accounts[t.signer].id);
                EXPECT_NE(tr->to, tr->from);
            } else if (auto* lo = std::get_if<LimitOrderCreateOp>(&op)) {
                EXPECT_GE(lo->amount_to_sell.amount, 1000);
                EXPECT_LE(lo->amount_to_sell.amount, 5000);
                double price = double(lo->min_to_receive.amount) / double(lo->amount_to_sell.amount);
                EXPECT_GE(price, 0.499);
                EXPECT_LE(price, 2.001);
                EXPECT_EQ(lo->min_to_receive.asset_id.instance, 1u);
                EXPECT_EQ(lo->fee.amount, 500000);
                EXPECT_EQ(lo->expiration.seconds, TimePointSec::maximum());
            }
        }
    }
}

// The issue's requirement: no duplicate transaction id among 1 M generated transactions. Ids
// are computed without signing (the id covers only the unsigned bytes).
TEST(TxFactory, NoDuplicateIdAmongOneMillion) {
    Fixture fx;
    fx.setup.mix = {3, 1, 0};
    fx.setup.shape.ops_min = 1;
    fx.setup.shape.ops_max = 2;
    fx.setup.shape.transfer_amount = {1, 1000};  // narrow on purpose: W = 1000 per second
    fx.setup.shape.order_amount = {1, 100000};
    auto f = TxFactory::create(fx.setup);
    ASSERT_TRUE(f) << f.error();
    BlockId ref;
    f->set_reference(ref, 1'700'000'000, 2000);  // 2000 tx/s: X follows the intended time
    std::unordered_set<TransactionId, IdHash> seen;
    seen.reserve(1'100'000);
    GeneratedTx t;
    std::uint32_t last_exp = 0;
    for (int i = 0; i < 1'000'000; ++i) {
        f->next(t);
        ASSERT_GE(t.tx.expiration.seconds, last_exp) << "expirations must never decrease";
        last_exp = t.tx.expiration.seconds;
        ASSERT_TRUE(seen.insert(transaction_id(t.tx)).second) << "duplicate id at " << i;
    }
    EXPECT_EQ(f->per_second_capacity(), 1000u);
    EXPECT_GT(f->counters().expiration_bumps, 0u);
    // 2000 tx/s with 1000 amounts per second: expirations run ahead, one second per 1000 tx.
    EXPECT_LE(last_exp - 1'700'000'000u, 1'000'000u / 1000u + 1);
}

TEST(TxFactory, ExpirationFollowsTheRate) {
    Fixture fx;
    auto f = TxFactory::create(fx.setup);
    ASSERT_TRUE(f);
    f->set_reference(BlockId{}, 1000, 100);  // 100 tx/s
    GeneratedTx t;
    for (int i = 0; i < 1000; ++i) {
        f->next(t);
        EXPECT_EQ(t.tx.expiration.seconds, 1000u + static_cast<std::uint32_t>(i / 100)) << i;
    }
    // A later batch with an earlier floor never moves expirations backwards.
    f->set_reference(BlockId{}, 500, 100);
    f->next(t);
    EXPECT_EQ(t.tx.expiration.seconds, 1009u);
}

TEST(TxFactory, TargetSizesAreHitExactly) {
    Fixture fx;
    fx.setup.mix = {1, 1, 0};
    for (std::uint64_t target : {300u, 512u, 1000u, 1024u, 1500u, 2000u, 2048u}) {
        fx.setup.shape.target_size = target;
        auto f = fx.factory();
        GeneratedTx t;
        for (int i = 0; i < 50; ++i) {
            f.next(t);
            auto size = pack_unsigned(t.tx).size() + 66;
            EXPECT_EQ(size, target) << "target " << target << " tx " << i;
            EXPECT_LE(pack_unsigned(t.tx).size(), 2048u);
            for (const auto& op : t.tx.operations)
                if (auto* tr = std::get_if<TransferOp>(&op); tr && tr->memo) {
                    // fee = base + memo bytes * price_per_kbyte / 1024, as the node computes it
                    auto memo_bytes = 74 + (tr->memo->message.data.size() < 128 ? 1 : 2) + tr->memo->message.data.size();
                    EXPECT_EQ(tr->fee.amount, 2000000 + static_cast<std::int64_t>(memo_bytes * 1000000 / 1024));
                }
        }
        EXPECT_GT(f.counters().filled, 0u);
    }
}

TEST(TxFactory, TargetAboveTheChainLimitIsRefusedNamingTheParameter) {
    Fixture fx;
    fx.setup.shape.target_size = 2 * 1024 * 1024;
    fx.setup.max_transaction_size = 2048;
    auto f = TxFactory::create(fx.setup);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error(), target_size_error(2 * 1024 * 1024, 2048));
    EXPECT_EQ(f.error(),
              "target_size 2097152 bytes exceeds the chain's maximum_transaction_size of 2048 bytes: the committee "
              "must raise the chain parameter maximum_transaction_size (committee_member_update_global_parameters) "
              "before transactions this large are accepted");
    fx.setup.max_transaction_size = 4 * 1024 * 1024;
    EXPECT_TRUE(TxFactory::create(fx.setup));
}

TEST(TxFactory, CancelsUseOwnOrdersOnceThenSubstitute) {
    Fixture fx(2);
    fx.setup.mix = {0, 0, 1};
    auto f = fx.factory();
    f.add_cancellable(0, LimitOrderId{100});
    f.add_cancellable(0, LimitOrderId{101});
    f.add_cancellable(1, LimitOrderId{200});
    std::set<std::uint64_t> cancelled;
    GeneratedTx t;
    for (int i = 0; i < 10; ++i) {
        f.next(t);
        for (const auto& op : t.tx.operations)
            if (auto* c = std::get_if<LimitOrderCancelOp>(&op)) {
                EXPECT_TRUE(cancelled.insert(c->order.instance).second);
                EXPECT_EQ(c->fee_paying_account, fx.setup.accounts[t.signer].id);
                EXPECT_EQ(c->order.instance / 100, t.signer + 1u) << "an order of another account";
            }
    }
    EXPECT_EQ(cancelled.size(), 3u);
    EXPECT_EQ(f.counters().orders_cancelled, 3u);
    EXPECT_EQ(f.counters().cancels_substituted, 7u);
    EXPECT_EQ(f.cancellable(), 0u);
}

TEST(TxFactory, SetupErrors) {
    Fixture one(1);
    EXPECT_FALSE(TxFactory::create(one.setup));  // transfers need two accounts
    one.setup.mix = {0, 1, 0};
    EXPECT_TRUE(TxFactory::create(one.setup));
    Fixture same;
    same.setup.mix = {0, 1, 0};
    same.setup.receive_asset = same.setup.sell_asset;
    EXPECT_FALSE(TxFactory::create(same.setup));
}

// ---------------------------------------------------------------------------------------------
// Preparer

TEST(Preparer, SignsInParallelIntoReadyRequestBodies) {
    Fixture fx;
    fx.setup.mix = {1, 1, 0};
    auto f = fx.factory();
    ChainId chain{};
    chain[0] = 0x42;
    PrepareJob job;
    job.factory = &f;
    job.count = 500;
    for (auto& k : fx.keys) job.keys.push_back(&k);
    job.chain_id = chain;
    job.threads = 3;
    auto batch = prepare_batch(job, fx.ctx);
    ASSERT_EQ(batch.txs.size(), 500u);
    EXPECT_FALSE(batch.cancelled);
    EXPECT_EQ(batch.first_n, 0u);
    EXPECT_GE(batch.sign_attempts, 500u);
    EXPECT_GT(batch.bytes_per_tx(), 100.0);
    EXPECT_LT(batch.bytes_per_tx(), 2000.0);
    for (std::size_t i = 0; i < batch.txs.size(); i += 37) {
        const auto& p = batch.txs[i];
        // {"id":N, + body is the whole request.
        auto req = nlohmann::json::parse("{\"id\":1," + p.body);
        EXPECT_EQ(req["method"], "call");
        EXPECT_EQ(req["params"][0], "network_broadcast");
        EXPECT_EQ(req["params"][1], "broadcast_transaction");
        auto tx = signed_transaction_from_json(Json::parse(req["params"][2][0].dump()));
        EXPECT_EQ(transaction_id(tx), p.id);
        EXPECT_EQ(pack_signed(tx).size(), p.signed_size);
        auto signers = recover_signers(tx, chain, fx.ctx);
        ASSERT_EQ(signers.size(), 1u);
        EXPECT_EQ(signers[0], fx.keys[i % fx.keys.size()].public_key()) << "signer of tx " << i;
        EXPECT_EQ(batch.find_by_sig(p.sig_key), static_cast<std::int64_t>(i));
    }
    // The next batch continues the sequence.
    job.count = 10;
    auto next = prepare_batch(job, fx.ctx);
    EXPECT_EQ(next.first_n, 500u);
}

TEST(Preparer, CancelStopsEarly) {
    Fixture fx;
    auto f = fx.factory();
    std::atomic<bool> cancel{true};
    PrepareJob job;
    job.factory = &f;
    job.count = 1000;
    for (auto& k : fx.keys) job.keys.push_back(&k);
    job.cancel = &cancel;
    auto batch = prepare_batch(job, fx.ctx);
    EXPECT_TRUE(batch.cancelled);
    EXPECT_LT(batch.txs.size(), 1000u);
}

// ---------------------------------------------------------------------------------------------
// Tracker

std::unique_ptr<PreparedBatch> synthetic_batch(std::uint64_t first_n, std::size_t n, std::uint32_t exp0) {
    auto b = std::make_unique<PreparedBatch>();
    b->first_n = first_n;
    b->txs.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        b->txs[i].body = "x";
        b->txs[i].sig_key = 0x1000 + first_n + i;
        b->txs[i].expiration = exp0 + i;
        b->txs[i].op_count = 2;
        b->by_sig.emplace_back(b->txs[i].sig_key, i);
    }
    std::sort(b->by_sig.begin(), b->by_sig.end());
    return b;
}

ReplyOutcome accepted(bool unexpected = false) {
    ReplyOutcome o;
    o.unexpected = unexpected;
    return o;
}
ReplyOutcome rejected(std::int64_t code, std::string_view message) {
    ReplyOutcome o;
    o.kind = ReplyOutcome::Kind::rejected;
    o.code = code;
    o.message = message;
    return o;
}
ReplyOutcome unknown() {
    ReplyOutcome o;
    o.kind = ReplyOutcome::Kind::unknown;
    return o;
}

TEST(Tracker, RepliesInclusionAndExpiry) {
    Counters c;
    Histograms h;
    Tracker t(c, h);
    t.add_batch(synthetic_batch(0, 6, 100));
    EXPECT_EQ(t.ready(), 6u);
    const std::int64_t ms = 1'000'000;
    for (int i = 0; i < 5; ++i) t.mark_sent(i * 10 * ms, i * 10 * ms + ms);  // 1 ms late each
    EXPECT_EQ(t.in_flight(), 5u);
    EXPECT_EQ(c.sent, 5u);

    t.on_reply(0, accepted(), 5 * ms);
    t.on_reply(1, rejected(3030001, "duplicate transaction"), 15 * ms);
    t.on_reply(2, unknown(), 100 * ms);
    t.on_reply(3, accepted(true), 35 * ms);
    EXPECT_EQ(t.in_flight(), 1u);
    EXPECT_EQ(c.accepted, 2u);
    EXPECT_EQ(c.rejected[static_cast<std::size_t>(RejectClass::duplicate)], 1u);
    EXPECT_EQ(c.unknown_outcome, 0u) << "a lost reply is not counted until the chain decides";
    EXPECT_EQ(c.unexpected_replies, 1u);
    EXPECT_EQ(h.acceptance_from_intended.count(), 2u);
    EXPECT_EQ(h.acceptance_from_intended.max(), 5000u);  // tx 0: 5 ms after intended
    EXPECT_EQ(h.acceptance_from_send.min(), 4000u);      // tx 0: 4 ms after the actual send
    EXPECT_EQ(t.awaiting_inclusion(), 3u);               // 0, 2 (unknown), 3

    // tx 4 is included before its reply arrives; tx 0 and the unknown tx 2 are included.
    t.on_block(99, {{0x1000, 2}, {0x1002, 2}, {0x1004, 2}, {0xdead, 1}}, 200 * ms);
    EXPECT_EQ(c.included_txs, 3u);
    EXPECT_EQ(c.included_ops, 6u);
    EXPECT_EQ(h.inclusion.count(), 3u);
    EXPECT_EQ(h.inclusion.max(), 200000u);  // tx 0: intended at 0
    EXPECT_EQ(t.awaiting_inclusion(), 1u);  // tx 3
    EXPECT_EQ(c.accepted, 3u) << "tx 2's reply was lost, but the chain has it: accepted";
    t.on_reply(4, accepted(), 210 * ms);
    EXPECT_EQ(t.in_flight(), 0u);
    EXPECT_EQ(t.awaiting_inclusion(), 1u);
    EXPECT_EQ(c.accepted, 4u);

    // tx 3 expires at 103. A block stamped 103 may still be followed by one that holds it (the
    // chain checks a block's transactions against the previous block's time); once a block
    // stamped after 103 is seen, it is dead.
    t.on_block(102, {}, 300 * ms);
    t.on_block(103, {}, 400 * ms);
    EXPECT_EQ(c.expired_unincluded, 0u);
    t.on_block(104, {}, 450 * ms);
    EXPECT_EQ(c.expired_unincluded, 1u);
    EXPECT_EQ(t.awaiting_inclusion(), 0u);
    // A second sighting of an included transaction is not counted twice.
    t.on_block(105, {{0x1000, 2}}, 500 * ms);
    EXPECT_EQ(c.included_txs, 3u);
    // The counts add up: one reply outcome per sent transaction, one fate per accepted one.
    EXPECT_EQ(c.sent, c.accepted + c.rejected_total() + c.unknown_outcome);
    EXPECT_EQ(c.accepted, c.included_txs + c.expired_unincluded + c.pending_at_cutoff);
}

TEST(Tracker, FinalizeCountsWhatIsStillOpen) {
    Counters c;
    Histograms h;
    Tracker t(c, h);
    t.add_batch(synthetic_batch(0, 6, 100));
    const std::int64_t ms = 1'000'000;
    for (int i = 0; i < 5; ++i) t.mark_sent(i * ms, i * ms);
    t.on_reply(0, accepted(), 5 * ms);  // accepted, never seen in a block: pending at the cutoff
    t.on_reply(1, unknown(), 6 * ms);   // reply lost, never seen: unknown
    t.on_block(50, {{0x1002, 1}}, 7 * ms);  // tx 2 in a block before its reply, which never comes
    t.on_reply(3, accepted(), 8 * ms);
    t.on_block(51, {{0x1003, 1}}, 9 * ms);  // tx 3 included
    // tx 4: no reply at all.
    EXPECT_EQ(t.in_flight(), 2u);
    t.finalize();
    EXPECT_EQ(t.in_flight(), 0u);
    EXPECT_EQ(t.awaiting_inclusion(), 0u);
    EXPECT_EQ(c.sent, 5u);
    EXPECT_EQ(c.accepted, 3u);         // 0, 3, and 2 (on chain)
    EXPECT_EQ(c.unknown_outcome, 2u);  // 1 and 4
    EXPECT_EQ(c.included_txs, 2u);
    EXPECT_EQ(c.pending_at_cutoff, 1u);
    EXPECT_EQ(c.sent, c.accepted + c.rejected_total() + c.unknown_outcome);
    EXPECT_EQ(c.accepted, c.included_txs + c.expired_unincluded + c.pending_at_cutoff);
}

TEST(Tracker, BatchesChainAndAreReleasedWhenDone) {
    Counters c;
    Histograms h;
    Tracker t(c, h);
    t.add_batch(synthetic_batch(0, 2, 100));
    t.add_batch(synthetic_batch(2, 2, 102));
    EXPECT_EQ(t.prepared_end(), 4u);
    for (int i = 0; i < 3; ++i) {
        ASSERT_NE(t.peek(), nullptr);
        t.mark_sent(0, 0);
    }
    EXPECT_EQ(t.ready(), 1u);
    t.on_reply(0, rejected(10, "x"), 1);
    t.on_reply(1, accepted(), 1);
    EXPECT_EQ(t.batches(), 2u);
    t.on_block(50, {{0x1001, 2}}, 2);  // tx 1 included: first batch is final
    EXPECT_EQ(t.batches(), 1u);
    EXPECT_EQ(t.find(0), nullptr);
    EXPECT_NE(t.find(3), nullptr);
    t.on_reply(2, accepted(), 3);
    EXPECT_GT(t.bytes_held(), 0u);
}

TEST(Tracker, ParsesBlocks) {
    auto block = nlohmann::json::parse(R"({"previous":"00","timestamp":"2024-01-02T03:04:05","witness":"1.6.1",
        "transactions":[{"operations":[[0,{}],[0,{}]],"signatures":["1f0123456789abcdef00"]},
                        {"operations":[[1,{}]],"signatures":[]},
                        {"operations":[[1,{}]],"signatures":["zz23456789abcdef"]}]})");
    std::uint32_t ts = 0;
    std::vector<BlockTx> txs;
    ASSERT_TRUE(parse_block(block, ts, txs));
    EXPECT_EQ(protocol::to_iso_string(protocol::TimePointSec{ts}), "2024-01-02T03:04:05");
    ASSERT_EQ(txs.size(), 1u);
    EXPECT_EQ(txs[0].sig_key, 0x1f0123456789abcdULL);
    EXPECT_EQ(txs[0].ops, 2u);
    EXPECT_FALSE(parse_block(nlohmann::json::parse("[1,2]"), ts, txs));
    EXPECT_FALSE(parse_block(nlohmann::json::parse(R"({"timestamp":5})"), ts, txs));
    EXPECT_FALSE(parse_block(nlohmann::json::parse(R"({"timestamp":"2024-01-02T03:04:05","transactions":{}})"), ts, txs));
}

}  // namespace
}  // namespace bts::beacon
