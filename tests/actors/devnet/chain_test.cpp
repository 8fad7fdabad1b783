// Unit tests for bts-devnet's chain rules: genesis, every rejection class with its fc code and
// message prefix, blocks, TaPoS, the pending pool, limit order matching.
#include "actors/devnet/chain.hpp"

#include "actors/devnet/genesis.hpp"
#include "actors/devnet/objects.hpp"
#include "common/crypto/hash.hpp"
#include "common/util/config.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace bts::devnet {
namespace {

using protocol::AccountId;
using protocol::Asset;
using protocol::AssetId;
using protocol::SignedTransaction;
using protocol::TimePointSec;

constexpr std::uint64_t kNathan = 17;
constexpr std::uint64_t kStress0 = 18;
constexpr std::uint64_t kStress1 = 19;
constexpr std::uint64_t kStress2 = 20;
constexpr std::uint32_t kStart = 1700000000;
constexpr std::int64_t kTransferFee = 2000000;

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

class ChainTest : public ::testing::Test {
protected:
    explicit ChainTest(ChainConfig cfg = {}) : genesis_(Genesis::built_in()), cfg_(cfg) { reset(); }

    void reset(const Genesis* g = nullptr) {
        if (g) genesis_ = *g;
        chain_ = std::make_unique<Chain>(genesis_, cfg_, TimePointSec{kStart});
    }

    crypto::PrivateKey key_for(std::uint64_t account) const {
        if (account >= kStress0) return crypto::PrivateKey::from_seed(ctx_, "bts-stress-devnet:stress-" + std::to_string(account - kStress0));
        return crypto::PrivateKey::from_seed(ctx_, "nathan");
    }

    SignedTransaction make(std::vector<protocol::Operation> ops, std::int64_t expire_in = 60) {
        SignedTransaction tx;
        protocol::set_reference_block(tx, chain_->head_block_id());
        tx.expiration = TimePointSec{std::uint32_t(chain_->head_block_time().seconds + expire_in)};
        tx.operations = std::move(ops);
        return tx;
    }
    void sign(SignedTransaction& tx, std::vector<crypto::PrivateKey> keys) {
        std::vector<const crypto::PrivateKey*> ptrs;
        for (auto& k : keys) ptrs.push_back(&k);
        protocol::sign(tx, chain_->chain_id(), ptrs, ctx_);
    }
    static protocol::TransferOp transfer_op(std::uint64_t from, std::uint64_t to, std::int64_t amount,
                                            std::uint64_t asset = 0, Asset fee = {kTransferFee, AssetId{0}}) {
        protocol::TransferOp op;
        op.fee = fee;
        op.from = AccountId{from};
        op.to = AccountId{to};
        op.amount = {amount, AssetId{asset}};
        return op;
    }
    SignedTransaction transfer(std::uint64_t from, std::uint64_t to, std::int64_t amount, std::uint64_t asset = 0,
                               std::int64_t expire_in = 60) {
        auto tx = make({transfer_op(from, to, amount, asset)}, expire_in);
        sign(tx, {key_for(from)});
        return tx;
    }
    static protocol::LimitOrderCreateOp order_op(std::uint64_t seller, Asset sell, Asset receive, bool fok = false,
                                                 TimePointSec expiration = TimePointSec{TimePointSec::maximum()}) {
        protocol::LimitOrderCreateOp op;
        op.fee = {500000, AssetId{0}};
        op.seller = AccountId{seller};
        op.amount_to_sell = sell;
        op.min_to_receive = receive;
        op.fill_or_kill = fok;
        op.expiration = expiration;
        return op;
    }
    PushResult sell(std::uint64_t seller, Asset sell, Asset receive, bool fok = false) {
        auto tx = make({order_op(seller, sell, receive, fok)});
        sign(tx, {key_for(seller)});
        return chain_->push_transaction(tx);
    }
    void expect_error(const PushResult& r, std::int64_t code, std::string_view prefix) {
        ASSERT_FALSE(r.ok()) << "expected " << prefix;
        EXPECT_EQ(r.error->code, code) << r.error->message();
        EXPECT_TRUE(starts_with(r.error->message(), prefix)) << r.error->message();
    }
    void block(std::uint32_t advance = 5) {
        chain_->produce_block(TimePointSec{chain_->head_block_time().seconds + advance});
    }
    std::int64_t bal(std::uint64_t account, std::uint64_t asset = 0) const { return chain_->balance(account, asset); }

    crypto::Context ctx_;
    Genesis genesis_;
    ChainConfig cfg_;
    std::unique_ptr<Chain> chain_;
};

// ---- genesis ------------------------------------------------------------------------------------

TEST_F(ChainTest, DefaultGenesisLayout) {
    EXPECT_EQ(genesis_.chain_id, crypto::sha256(Genesis::built_in_text()));
    EXPECT_EQ(chain_->account(6)->name, "init0");
    EXPECT_EQ(chain_->account(16)->name, "init10");
    EXPECT_EQ(chain_->account(kNathan)->name, "nathan");
    EXPECT_EQ(chain_->account(kStress0)->name, "stress-0");
    EXPECT_EQ(chain_->account(217)->name, "stress-199");
    EXPECT_EQ(chain_->account_count(), 218u);
    EXPECT_EQ(chain_->asset(0)->genesis.symbol, "BTS");
    EXPECT_EQ(chain_->asset(0)->genesis.precision, 5);
    EXPECT_EQ(chain_->asset(1)->genesis.symbol, "USD");
    EXPECT_EQ(chain_->asset(1)->genesis.precision, 4);
    EXPECT_EQ(bal(kStress0), 1000000000000);
    EXPECT_EQ(bal(kStress0, 1), 100000000000);
    EXPECT_EQ(chain_->account(kNathan)->active.key_auths.items.at(0).first.to_string(),
              "BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV");
    EXPECT_EQ(chain_->account(kStress1)->active.key_auths.items.at(0).first, key_for(kStress1).public_key());
    EXPECT_EQ(chain_->account(6)->active.key_auths.items.at(0).first, key_for(kNathan).public_key());
}

TEST(GenesisTest, ChainIdIsSha256OfTheBytes) {
    std::string text = R"([[assets]]
symbol = "BTS"
[[accounts]]
name = "alice"
key = "BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV"
balances = { BTS = "1.5" }
)";
    auto g = Genesis::parse(text, "x.toml");
    EXPECT_EQ(g.chain_id, crypto::sha256(text));
    ASSERT_EQ(g.accounts.size(), 1u);
    EXPECT_EQ(g.accounts[0].balances.at(0).second, 150000);
    auto g2 = Genesis::parse(text + "\n", "x.toml");
    EXPECT_NE(g2.chain_id, g.chain_id);
}

TEST(GenesisTest, ErrorsNameFileAndKey) {
    auto fails = [](const std::string& text, std::string_view needle) {
        try {
            (void)Genesis::parse(text, "g.toml");
        } catch (const util::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("g.toml"), std::string::npos) << e.what();
            return;
        }
        ADD_FAILURE() << "accepted: " << text;
    };
    fails("[[assets]]\nsymbol = \"BTS\"\n[[accounts]]\nname = \"a\"\nkey = \"BTSnotakey\"\n", "bad public key");
    fails("[[assets]]\nsymbol = \"BTS\"\n[[accounts]]\nname = \"Bad_Name\"\nkey = "
          "\"BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV\"\n",
          "invalid account name");
    fails("[[assets]]\nsymbol = \"BTS\"\n[[accounts]]\nname = \"nathan\"\nkey = "
          "\"BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV\"\nbalances = { XYZ = 1 }\n",
          "unknown asset");
    fails("[[assets]]\nsymbol = \"BTS\"\nprecison = 5\n", "precison");
    fails("[chain]\n", "at least the core asset");
    fails("[[assets]]\nsymbol = \"BTS\"\n[[accounts]]\nname = \"a\"\nactive = { weight_threshold = 3, keys = [{ key = "
          "\"BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV\" }] }\nowner_key = "
          "\"BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV\"\n",
          "cannot reach the threshold");
}

TEST(GenesisTest, DecimalAmounts) {
    EXPECT_EQ(parse_decimal_amount("12", 5), 1200000);
    EXPECT_EQ(parse_decimal_amount("0.00001", 5), 1);
    EXPECT_EQ(parse_decimal_amount("1.5", 4), 15000);
    EXPECT_FALSE(parse_decimal_amount("1.000001", 5));
    EXPECT_FALSE(parse_decimal_amount("-1", 5));
    EXPECT_FALSE(parse_decimal_amount("1.", 5));
    EXPECT_FALSE(parse_decimal_amount("99999999999999999999", 5));
}

// ---- acceptance, blocks, TaPoS -----------------------------------------------------------------

TEST_F(ChainTest, TransferMovesBalancesAndPaysTheFee) {
    auto r = chain_->push_transaction(transfer(kStress0, kStress1, 12345));
    ASSERT_TRUE(r.ok()) << r.error->message();
    EXPECT_EQ(bal(kStress0), 1000000000000 - 12345 - kTransferFee);
    EXPECT_EQ(bal(kStress1), 1000000000000 + 12345);
    EXPECT_EQ(chain_->pending_count(), 1u);
    EXPECT_EQ(chain_->stats().pushed, 1u);

    auto pb = chain_->produce_block(TimePointSec{kStart + 5});
    ASSERT_NE(pb.block, nullptr);
    EXPECT_EQ(pb.block->num, 1u);
    EXPECT_EQ(pb.block->tx_count(), 1u);
    EXPECT_EQ(pb.included.at(0)->id, r.id);
    EXPECT_EQ(chain_->pending_count(), 0u);
    EXPECT_EQ(protocol::block_num_from_id(chain_->head_block_id()), 1u);
    EXPECT_EQ(chain_->head_block_time().seconds, kStart + 5);
    // Still applied once, not twice.
    EXPECT_EQ(bal(kStress1), 1000000000000 + 12345);
    auto again = pb.block->transaction(0);
    EXPECT_EQ(protocol::transaction_id(again), r.id);
    ASSERT_TRUE(chain_->recent_transaction(r.id));
}

TEST_F(ChainTest, BlockIdsChainAndTaposUsesThem) {
    block();
    block();
    const Block* b2 = chain_->block(2);
    ASSERT_NE(b2, nullptr);
    EXPECT_EQ(b2->previous, chain_->block(1)->id);
    EXPECT_EQ(b2->id.data[3], 2);
    // A transaction referring to block 1 by its id is accepted; a wrong prefix is not.
    auto tx = make({transfer_op(kStress0, kStress1, 1)});
    protocol::set_reference_block(tx, chain_->block(1)->id);
    sign(tx, {key_for(kStress0)});
    EXPECT_TRUE(chain_->push_transaction(tx).ok());

    auto bad = make({transfer_op(kStress0, kStress1, 2)});
    bad.ref_block_prefix ^= 1;
    sign(bad, {key_for(kStress0)});
    expect_error(chain_->push_transaction(bad), 10,
                 "Assert Exception: trx.ref_block_prefix == tapos_block_summary.block_id._hash[1].value(): ");
}

TEST_F(ChainTest, EmptyBlockMerkleRootIsZeroAndSizeIsHeaderOnly) {
    auto pb = chain_->produce_block(TimePointSec{kStart + 5});
    EXPECT_EQ(pb.block->merkle_root, protocol::FixedBytes<20>{});
    EXPECT_EQ(pb.block->size, 20u + 4 + 1 + 20 + 1 + 65 + 1);
}

// ---- rejection classes -------------------------------------------------------------------------

TEST_F(ChainTest, Duplicate) {
    auto tx = transfer(kStress0, kStress1, 7);
    ASSERT_TRUE(chain_->push_transaction(tx).ok());
    auto r = chain_->push_transaction(tx);
    expect_error(r, 3030001, "duplicate transaction: Transaction '" + crypto::to_hex(r.id.data) +
                                 "' is already in the database");
    EXPECT_EQ(r.error->name, "duplicate_transaction");
    block();
    expect_error(chain_->push_transaction(tx), 3030001, "duplicate transaction: ");
}

TEST_F(ChainTest, ExpiredAndTooFarInTheFuture) {
    block();
    auto old = transfer(kStress0, kStress1, 1, 0, -1);
    expect_error(chain_->push_transaction(old), 10, "Assert Exception: now <= trx.expiration: ");
    auto far = transfer(kStress0, kStress1, 1, 0, 86401);
    expect_error(chain_->push_transaction(far), 10,
                 "Assert Exception: trx.expiration <= now + chain_parameters.maximum_time_until_expiration: ");
    EXPECT_TRUE(chain_->push_transaction(transfer(kStress0, kStress1, 1, 0, 86400)).ok());
    EXPECT_TRUE(chain_->push_transaction(transfer(kStress0, kStress1, 2, 0, 0)).ok());
}

TEST_F(ChainTest, NoExpirationOrTaposChecksBeforeTheFirstBlock) {
    auto tx = make({transfer_op(kStress0, kStress1, 1)}, -100);
    tx.ref_block_prefix = 12345;
    sign(tx, {key_for(kStress0)});
    EXPECT_TRUE(chain_->push_transaction(tx).ok());
}

TEST_F(ChainTest, WrongKeyIsMissingActiveAuthority) {
    auto tx = make({transfer_op(kStress0, kStress1, 1)});
    sign(tx, {key_for(kStress1)});
    auto r = chain_->push_transaction(tx);
    expect_error(r, 4010001, "missing required active authority: Missing Active Authority 1.2.18");
    EXPECT_EQ(r.error->name, "tx_missing_active_auth");
    // Signed for another chain: same error.
    auto other = make({transfer_op(kStress0, kStress1, 1)});
    auto k = key_for(kStress0);
    std::vector<const crypto::PrivateKey*> keys{&k};
    protocol::sign(other, crypto::sha256(std::string_view("other chain")), keys, ctx_);
    expect_error(chain_->push_transaction(other), 4010001, "missing required active authority: ");
    // Unsigned.
    expect_error(chain_->push_transaction(make({transfer_op(kStress0, kStress1, 1)})), 4010001,
                 "missing required active authority: Missing Active Authority 1.2.18");
}

TEST_F(ChainTest, NonCanonicalAndUnrecoverableSignatures) {
    auto tx = transfer(kStress0, kStress1, 1);
    auto nc = tx;
    nc.signatures[0][1] |= 0x80;  // r >= 2^255: not fc-canonical
    expect_error(chain_->push_transaction(nc), 10, "Assert Exception: is_canonical( c ): signature is not canonical");
    auto bad_header = tx;
    bad_header.signatures[0][0] = 26;
    auto r = chain_->push_transaction(bad_header);
    expect_error(r, 0, "unspecified: unable to reconstruct public key from signature");
}

TEST_F(ChainTest, UnnecessaryAndDuplicateSignatures) {
    auto tx = make({transfer_op(kStress0, kStress1, 1)});
    sign(tx, {key_for(kStress0), key_for(kStress2)});
    expect_error(chain_->push_transaction(tx), 4010004,
                 "irrelevant signature included: Unnecessary signature(s) detected");
    auto dup = make({transfer_op(kStress0, kStress1, 2)});
    sign(dup, {key_for(kStress0), key_for(kStress0)});
    expect_error(chain_->push_transaction(dup), 4010005, "duplicate signature included: Duplicate Signature detected");
    // Two operations of two payers need both keys, and then neither is unnecessary.
    auto two = make({transfer_op(kStress0, kStress1, 3), transfer_op(kStress2, kStress1, 3)});
    sign(two, {key_for(kStress0), key_for(kStress2)});
    EXPECT_TRUE(chain_->push_transaction(two).ok());
}

TEST_F(ChainTest, InsufficientFee) {
    auto op = transfer_op(kStress0, kStress1, 1, 0, {kTransferFee - 1, AssetId{0}});
    auto tx = make({op});
    sign(tx, {key_for(kStress0)});
    auto r = chain_->push_transaction(tx);
    expect_error(r, 4010007, "insufficient fee: Insufficient Fee Paid");
    EXPECT_EQ(r.error->stack.at(0).data["required"], kTransferFee);
}

TEST_F(ChainTest, MemoFeeIsPerKilobyte) {
    protocol::Memo memo;
    memo.from = key_for(kStress0).public_key();
    memo.to = key_for(kStress1).public_key();
    memo.message.data.assign(16, 0xab);
    auto op = transfer_op(kStress0, kStress1, 1);
    op.memo = memo;
    EXPECT_EQ(chain_->required_core_fee(protocol::Operation{op}), 2000000 + 88867);
    auto tx = make({op});
    sign(tx, {key_for(kStress0)});
    expect_error(chain_->push_transaction(tx), 4010007, "insufficient fee: ");
}

TEST_F(ChainTest, InsufficientBalance) {
    auto tx = transfer(kStress0, kStress1, 1000000000001);
    auto r = chain_->push_transaction(tx);
    expect_error(r, 10,
                 "Assert Exception: insufficient_balance: Insufficient Balance: 10000000 BTS, unable to transfer "
                 "'10000000.00001 BTS' from account 'stress-0' to 'stress-1' Unable to transfer 10000000.00001 BTS "
                 "from stress-0 to stress-1");
    // Enough for the amount but not for the fee: the fee is deducted after the transfer.
    auto all = transfer(kStress0, kStress1, 1000000000000);
    expect_error(chain_->push_transaction(all), 10,
                 "Assert Exception: abo->get_balance() >= -delta: Insufficient Balance: stress-0's balance of 0 BTS "
                 "is less than required 20 BTS");
    EXPECT_EQ(bal(kStress0), 1000000000000);  // undone
}

TEST_F(ChainTest, OperationValidateFailures) {
    auto tx = transfer(kStress0, kStress0, 1);
    expect_error(chain_->push_transaction(tx), 10, "Assert Exception: from != to: ");
    auto zero = transfer(kStress0, kStress1, 0);
    expect_error(chain_->push_transaction(zero), 10, "Assert Exception: amount.amount > 0: ");
    auto none = make({});
    expect_error(chain_->push_transaction(none), 10,
                 "Assert Exception: operations.size() > 0: A transaction must have at least one operation");
}

TEST_F(ChainTest, UnknownAccountAndAsset) {
    auto tx = transfer(kStress0, 100000, 1);
    // The payer signs, the authority check passes, the evaluator cannot find the receiver.
    expect_error(chain_->push_transaction(tx), 10, "Assert Exception: maybe_found != nullptr: Unable to find Object");
    auto asset = transfer(kStress0, kStress1, 1, 9);
    expect_error(chain_->push_transaction(asset), 10, "Assert Exception: maybe_found != nullptr: Unable to find Object");
}

TEST_F(ChainTest, TooLarge) {
    block();
    protocol::Memo memo;
    memo.from = key_for(kStress0).public_key();
    memo.to = key_for(kStress1).public_key();
    memo.message.data.assign(2000, 1);
    auto op = transfer_op(kStress0, kStress1, 1, 0, {10000000, AssetId{0}});
    op.memo = memo;
    auto tx = make({op});
    sign(tx, {key_for(kStress0)});
    expect_error(chain_->push_transaction(tx), 10,
                 "Assert Exception: head_block_time() <= HARDFORK_CORE_1573_TIME || trx.get_packed_size() <= "
                 "chain_parameters.maximum_transaction_size: Transaction exceeds maximum transaction size.");
}

TEST_F(ChainTest, UnsupportedOperation) {
    protocol::AccountUpgradeOp op;
    op.account_to_upgrade = AccountId{kStress0};
    auto tx = make({op});
    sign(tx, {key_for(kStress0)});
    auto r = chain_->push_transaction(tx);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error->message().find("bts-devnet does not evaluate account_upgrade"), std::string::npos);
}

TEST_F(ChainTest, NonCoreFeeUsesTheFeePool) {
    // 20 BTS at 1 USD = 5 BTS → 4 USD = 40000 units.
    auto op = transfer_op(kStress0, kStress1, 1, 0, {39999, AssetId{1}});
    auto tx = make({op});
    sign(tx, {key_for(kStress0)});
    expect_error(chain_->push_transaction(tx), 4010007, "insufficient fee: ");
    auto ok = make({transfer_op(kStress0, kStress1, 1, 0, {40000, AssetId{1}})});
    sign(ok, {key_for(kStress0)});
    auto pool = chain_->asset(1)->fee_pool;
    ASSERT_TRUE(chain_->push_transaction(ok).ok());
    EXPECT_EQ(bal(kStress0, 1), 100000000000 - 40000);
    EXPECT_EQ(chain_->asset(1)->fee_pool, pool - kTransferFee);
}

// ---- authorities -------------------------------------------------------------------------------

TEST_F(ChainTest, MultiSigAndAccountAuthorities) {
    // A genesis with a 2-of-3 account (owner: another key) and an account controlled by nathan.
    auto k = [&](const char* seed) { return crypto::PrivateKey::from_seed(ctx_, seed).public_key().to_string(); };
    std::string extra = "[[accounts]]\nname = \"multi\"\nowner_key = \"" + k("mo") +
                        "\"\nactive = { weight_threshold = 2, keys = [{ key = \"" + k("m1") + "\" }, { key = \"" +
                        k("m2") + "\" }, { key = \"" + k("m3") + "\" }] }\nbalances = { BTS = 100000000 }\n" +
                        "[[accounts]]\nname = \"delegated\"\nowner_key = \"" + k("d") +
                        "\"\nactive = { weight_threshold = 1, accounts = [{ account = \"nathan\" }] }\n"
                        "balances = { BTS = 100000000 }\n";
    // [[accounts]] entries must precede [[account_ranges]] in the file, so build a fresh file.
    std::string base(Genesis::built_in_text());
    auto cut = base.find("[[account_ranges]]");
    std::string combined = base.substr(0, cut) + extra + base.substr(cut);
    Genesis g = Genesis::parse(combined, "multi.toml");
    reset(&g);
    std::uint64_t multi = *chain_->account_by_name("multi");
    std::uint64_t delegated = *chain_->account_by_name("delegated");
    auto m = [&](const char* seed) { return crypto::PrivateKey::from_seed(ctx_, seed); };

    auto one = make({transfer_op(multi, kNathan, 1)});
    sign(one, {m("m1")});
    expect_error(chain_->push_transaction(one), 4010001, "missing required active authority: Missing Active Authority");
    auto two = make({transfer_op(multi, kNathan, 2)});
    sign(two, {m("m1"), m("m3")});
    EXPECT_TRUE(chain_->push_transaction(two).ok());
    // A third signature beyond the threshold is unnecessary.
    auto three = make({transfer_op(multi, kNathan, 3)});
    sign(three, {m("m1"), m("m2"), m("m3")});
    expect_error(chain_->push_transaction(three), 4010004, "irrelevant signature included: ");
    // The owner key satisfies the active requirement too.
    auto owner = make({transfer_op(multi, kNathan, 4)});
    sign(owner, {m("mo")});
    EXPECT_TRUE(chain_->push_transaction(owner).ok());
    // nathan's key signs for `delegated` through its account authority.
    auto del = make({transfer_op(delegated, kNathan, 6)});
    sign(del, {key_for(kNathan)});
    auto dr = chain_->push_transaction(del);
    EXPECT_TRUE(dr.ok()) << dr.error->message();
}

TEST_F(ChainTest, ReservedAccountsCannotBeSignedFor) {
    auto tx = make({transfer_op(0, kStress1, 1)});
    sign(tx, {key_for(kNathan)});
    expect_error(chain_->push_transaction(tx), 4010001, "missing required active authority: Missing Active Authority 1.2.0");
}

// ---- pool, block size, re-validation -----------------------------------------------------------

class SmallPoolTest : public ChainTest {
protected:
    SmallPoolTest() : ChainTest(ChainConfig{.max_pending = 3}) {}
};

TEST_F(SmallPoolTest, PoolFullIsRefusedUntilTheNextBlock) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(chain_->push_transaction(transfer(kStress0, kStress1, 1 + i)).ok());
    auto r = chain_->push_transaction(transfer(kStress0, kStress1, 100));
    expect_error(r, error_code::pending_pool_full, "pending pool full: 3 transactions are pending (max_pending 3)");
    EXPECT_EQ(chain_->stats().pool_full, 1u);
    block();
    EXPECT_TRUE(chain_->push_transaction(transfer(kStress0, kStress1, 100)).ok());
}

TEST_F(ChainTest, BlockSizeOverflowStaysPendingAndExpiredLeftoversAreDropped) {
    Genesis g = genesis_;
    g.parameters.maximum_block_size = 114 + 3 * 104;  // header + three minimal transfers
    reset(&g);
    block();  // head > 0, so expiration counts
    std::vector<protocol::TransactionId> ids;
    for (int i = 0; i < 5; ++i) {
        auto tx = transfer(kStress0, kStress1, 1 + i, 0, i == 4 ? 3 : 60);
        auto r = chain_->push_transaction(tx);
        ASSERT_TRUE(r.ok()) << r.error->message();
        ASSERT_EQ(tx.signatures.size(), 1u);
        ids.push_back(r.id);
    }
    auto pb = chain_->produce_block(TimePointSec{chain_->head_block_time().seconds + 5});
    EXPECT_EQ(pb.block->tx_count(), 3u);
    EXPECT_EQ(pb.postponed, 2u);
    // The fifth expired meanwhile (head time moved 5 s, it had 3 s): dropped on re-push.
    EXPECT_EQ(pb.dropped, 1u);
    EXPECT_EQ(chain_->pending_count(), 1u);
    EXPECT_LE(pb.block->size, g.parameters.maximum_block_size);
    pb = chain_->produce_block(TimePointSec{chain_->head_block_time().seconds + 5});
    EXPECT_EQ(pb.block->tx_count(), 1u);
    EXPECT_EQ(pb.included.at(0)->id, ids[3]);
    EXPECT_EQ(chain_->stats().dropped, 1u);
}

TEST_F(ChainTest, ExpiredIdsAreForgotten) {
    block();
    auto tx = transfer(kStress0, kStress1, 1, 0, 6);
    ASSERT_TRUE(chain_->push_transaction(tx).ok());
    block(5);
    EXPECT_TRUE(chain_->is_known_transaction(protocol::transaction_id(tx)));
    block(5);  // head time now past the expiration
    EXPECT_FALSE(chain_->is_known_transaction(protocol::transaction_id(tx)));
}

class TrustTest : public ChainTest {
protected:
    TrustTest() : ChainTest(ChainConfig{.trust_signatures = true}) {}
};

TEST_F(TrustTest, SignaturesAreNotChecked) {
    auto tx = make({transfer_op(kStress0, kStress1, 1)});
    EXPECT_TRUE(chain_->push_transaction(tx).ok());
    auto wrong = make({transfer_op(kStress0, kStress1, 2)});
    sign(wrong, {key_for(kStress2)});
    EXPECT_TRUE(chain_->push_transaction(wrong).ok());
    // Everything else still is.
    expect_error(chain_->push_transaction(tx), 3030001, "duplicate transaction: ");
    expect_error(chain_->push_transaction(make({transfer_op(kStress0, kStress1, 1000000000001)})), 10,
                 "Assert Exception: insufficient_balance: ");
}

TEST(ApplyCostTest, BusyWaitsPerOperation) {
    crypto::Context ctx;
    Chain chain(Genesis::built_in(), ChainConfig{.apply_cost = std::chrono::milliseconds(5)}, TimePointSec{kStart});
    SignedTransaction tx;
    tx.expiration = TimePointSec{kStart + 60};
    protocol::TransferOp op;
    op.fee = {kTransferFee, AssetId{0}};
    op.from = AccountId{kStress0};
    op.to = AccountId{kStress1};
    op.amount = {1, AssetId{0}};
    tx.operations = {op, op};
    auto key = crypto::PrivateKey::from_seed(ctx, "bts-stress-devnet:stress-0");
    std::vector<const crypto::PrivateKey*> keys{&key};
    protocol::sign(tx, chain.chain_id(), keys, ctx);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(chain.push_transaction(tx).ok());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(10));
}

// ---- limit orders --------------------------------------------------------------------------------

constexpr std::int64_t kOrderFee = 500000;

TEST_F(ChainTest, CrossingOrdersFillAtTheMakerPrice) {
    // stress-0 sells 100 USD for 500 BTS (5 BTS per USD).
    auto maker = sell(kStress0, {1000000, AssetId{1}}, {50000000, AssetId{0}});
    ASSERT_TRUE(maker.ok()) << maker.error->message();
    const LimitOrder* o = chain_->order(0);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->for_sale, 1000000);
    EXPECT_EQ(o->deferred_fee, kOrderFee);
    EXPECT_EQ(bal(kStress0, 1), 100000000000 - 1000000);
    // stress-1 offers 600 BTS for at least 100 USD: crosses, pays the maker's price (500 BTS).
    auto taker = sell(kStress1, {60000000, AssetId{0}}, {1000000, AssetId{1}});
    ASSERT_TRUE(taker.ok()) << taker.error->message();
    EXPECT_EQ(chain_->order(0), nullptr);  // maker filled
    EXPECT_EQ(bal(kStress0, 0), 1000000000000 - kOrderFee + 50000000);
    EXPECT_EQ(bal(kStress1, 1), 100000000000 + 1000000);
    // The taker's rest (100 BTS) stays on the book at its own price.
    const LimitOrder* rest = chain_->order(1);
    ASSERT_NE(rest, nullptr);
    EXPECT_EQ(rest->for_sale, 10000000);
    EXPECT_EQ(rest->deferred_fee, 0);  // spent on the fill
    EXPECT_EQ(bal(kStress1, 0), 1000000000000 - 60000000 - kOrderFee);
}

TEST_F(ChainTest, PriceTimePriority) {
    // Two makers at the same price, then a better one: the better one fills first, then the older.
    ASSERT_TRUE(sell(kStress0, {100000, AssetId{1}}, {500000, AssetId{0}}).ok());  // 1.7.0, 5 BTS/USD
    ASSERT_TRUE(sell(kStress1, {100000, AssetId{1}}, {500000, AssetId{0}}).ok());  // 1.7.1, same price
    ASSERT_TRUE(sell(kStress2, {100000, AssetId{1}}, {400000, AssetId{0}}).ok());  // 1.7.2, 4 BTS/USD: better
    auto book = chain_->order_book(1, 0, 10);
    ASSERT_EQ(book.size(), 3u);
    EXPECT_EQ(book[0]->id, 2u);
    EXPECT_EQ(book[1]->id, 0u);
    EXPECT_EQ(book[2]->id, 1u);
    // nathan sells 750000 BTS units for at least 150000 USD units (5 per unit). It sells ALL of
    // its amount, at the makers' prices: 400000 to 1.7.2 (100000 USD at 4), the remaining 350000
    // to 1.7.0 (70000 USD at 5); 1.7.1, as good but younger, is untouched.
    auto nathan_usd = bal(kNathan, 1);
    auto r = sell(kNathan, {750000, AssetId{0}}, {150000, AssetId{1}});
    ASSERT_TRUE(r.ok()) << r.error->message();
    EXPECT_EQ(chain_->order(2), nullptr);
    ASSERT_NE(chain_->order(0), nullptr);
    EXPECT_EQ(chain_->order(0)->for_sale, 30000);
    EXPECT_EQ(chain_->order(1)->for_sale, 100000);
    EXPECT_EQ(chain_->order(3), nullptr);  // the taker is completely filled
    EXPECT_EQ(bal(kNathan, 1), nathan_usd + 170000);
    EXPECT_EQ(bal(kStress2, 0), 1000000000000 - kOrderFee + 400000);
    EXPECT_EQ(bal(kStress0, 0), 1000000000000 - kOrderFee + 350000);
}

TEST_F(ChainTest, FillOrKill) {
    ASSERT_TRUE(sell(kStress0, {100000, AssetId{1}}, {500000, AssetId{0}}).ok());
    auto before = bal(kStress1);
    auto r = sell(kStress1, {1000000, AssetId{0}}, {200000, AssetId{1}}, true);
    expect_error(r, 3050101, "Killing limit order due to unable to fill: Killing limit order {");
    EXPECT_EQ(bal(kStress1), before);  // nothing happened
    ASSERT_NE(chain_->order(0), nullptr);
    EXPECT_EQ(chain_->order(0)->for_sale, 100000);
    // Fully fillable: accepted, nothing left on the book.
    auto ok = sell(kStress1, {500000, AssetId{0}}, {100000, AssetId{1}}, true);
    ASSERT_TRUE(ok.ok()) << ok.error->message();
    EXPECT_EQ(chain_->order_count(), 0u);
}

TEST_F(ChainTest, OrderRejections) {
    auto poor = sell(kStress0, {1000000000001, AssetId{0}}, {1, AssetId{1}});
    expect_error(poor, 3050106, "Insufficient balance: insufficient balance");
    block();
    auto tx = make({order_op(kStress0, {1, AssetId{0}}, {1, AssetId{1}}, false,
                             TimePointSec{chain_->head_block_time().seconds - 1})});
    sign(tx, {key_for(kStress0)});
    expect_error(chain_->push_transaction(tx), 10, "Assert Exception: op.expiration >= d.head_block_time(): ");
    auto same = sell(kStress0, {1, AssetId{0}}, {1, AssetId{0}});
    expect_error(same, 10, "Assert Exception: amount_to_sell.asset_id != min_to_receive.asset_id: ");
}

TEST_F(ChainTest, CancelRefundsAmountAndDeferredFee) {
    auto before = bal(kStress0);
    ASSERT_TRUE(sell(kStress0, {1000000, AssetId{0}}, {1, AssetId{1}}).ok());
    EXPECT_EQ(bal(kStress0), before - 1000000 - kOrderFee);
    protocol::LimitOrderCancelOp cancel;
    cancel.fee = {0, AssetId{0}};
    cancel.fee_paying_account = AccountId{kStress0};
    cancel.order = protocol::LimitOrderId{0};
    auto tx = make({cancel});
    sign(tx, {key_for(kStress0)});
    ASSERT_TRUE(chain_->push_transaction(tx).ok());
    EXPECT_EQ(bal(kStress0), before);
    EXPECT_EQ(chain_->order(0), nullptr);

    auto gone = make({cancel}, 61);
    sign(gone, {key_for(kStress0)});
    expect_error(chain_->push_transaction(gone), 3050201, "Order does not exist: Limit order 1.7.0 does not exist");

    ASSERT_TRUE(sell(kStress0, {1000001, AssetId{0}}, {1, AssetId{1}}).ok());  // 1.7.1
    protocol::LimitOrderCancelOp theirs = cancel;
    theirs.fee_paying_account = AccountId{kStress1};
    theirs.order = protocol::LimitOrderId{1};
    auto steal = make({theirs});
    sign(steal, {key_for(kStress1)});
    expect_error(chain_->push_transaction(steal), 3050202,
                 "Order owned by someone else: Limit order 1.7.1 is owned by someone else");
}

TEST_F(ChainTest, OrdersExpireAtTheirTime) {
    auto before = bal(kStress0);
    auto tx = make({order_op(kStress0, {1000000, AssetId{0}}, {1, AssetId{1}}, false,
                             TimePointSec{kStart + 10})});
    sign(tx, {key_for(kStress0)});
    ASSERT_TRUE(chain_->push_transaction(tx).ok());
    block(5);
    ASSERT_NE(chain_->order(0), nullptr);
    block(5);  // head time = expiration: cancelled, amount and deferred fee refunded (cancel fee 0)
    EXPECT_EQ(chain_->order(0), nullptr);
    EXPECT_EQ(bal(kStress0), before);
}

TEST_F(ChainTest, OrderIdsAreStableAcrossReapplication) {
    ASSERT_TRUE(sell(kStress0, {1000, AssetId{0}}, {1, AssetId{1}}).ok());
    ASSERT_TRUE(sell(kStress1, {1000, AssetId{0}}, {1, AssetId{1}}).ok());
    block();
    EXPECT_EQ(chain_->order(0)->seller, kStress0);
    EXPECT_EQ(chain_->order(1)->seller, kStress1);
    EXPECT_EQ(chain_->next_order_id(), 2u);
}

// ---- JSON views ----------------------------------------------------------------------------------

TEST_F(ChainTest, ObjectJson) {
    auto acc = account_to_json(*chain_, kNathan);
    EXPECT_EQ(acc["id"], "1.2.17");
    EXPECT_EQ(acc["name"], "nathan");
    EXPECT_EQ(acc["active"]["key_auths"][0][0], "BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV");
    auto asset = asset_object_to_json(*chain_, 1);
    EXPECT_EQ(asset["symbol"], "USD");
    EXPECT_EQ(asset["precision"], 4);
    auto dgp = dynamic_global_properties_to_json(*chain_, std::chrono::seconds(5));
    EXPECT_EQ(dgp["head_block_number"], 0);
    EXPECT_EQ(dgp["head_block_id"], std::string(40, '0'));
    auto gp = global_properties_to_json(*chain_, std::chrono::seconds(5));
    EXPECT_EQ(gp["parameters"]["current_fees"]["parameters"][0][1]["fee"], 2000000);
    EXPECT_EQ(config_to_json(*chain_)["GRAPHENE_ADDRESS_PREFIX"], "BTS");
    EXPECT_EQ(object_to_json(*chain_, "1.2.100000", std::chrono::seconds(5)), nullptr);
    EXPECT_EQ(chain_->pretty({150000, AssetId{0}}), "1.50000 BTS");
    EXPECT_EQ(chain_->pretty({100000, AssetId{0}}), "1 BTS");
    EXPECT_EQ(chain_->pretty({5, AssetId{1}}), "0.0005 USD");
}

}  // namespace
}  // namespace bts::devnet
