// TxFactory: deterministic, unique, size-targeted transaction generation (see the header).
#include "actors/beacon/tx_factory.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bts::beacon {

namespace {

constexpr std::uint32_t kSignedOverhead = 1 + 65;  // varint(1 signature) + one compact signature
constexpr std::uint64_t kMemoFixed = 33 + 33 + 8;  // from, to, nonce

std::uint64_t splitmix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t mix2(std::uint64_t a, std::uint64_t b) {
    std::uint64_t s = a ^ (b * 0xd1b54a32d192ed03ULL);
    splitmix(s);
    return splitmix(s);
}

std::int64_t draw_in(std::uint64_t& rng, const Int64Range& r) {
    return r.min + static_cast<std::int64_t>(splitmix(rng) % r.width());
}

double draw_unit(std::uint64_t& rng) {
    return static_cast<double>(splitmix(rng) >> 11) * 0x1.0p-53;
}

std::uint64_t varint_size(std::uint64_t v) {
    std::uint64_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

}  // namespace

std::int64_t FeeSchedule::fee(std::int64_t base, std::uint64_t data_bytes, std::int64_t per_kbyte) const {
    unsigned __int128 total = static_cast<unsigned __int128>(std::max<std::int64_t>(base, 0));
    if (data_bytes > 0 && per_kbyte > 0)
        total += static_cast<unsigned __int128>(data_bytes) * static_cast<std::uint64_t>(per_kbyte) / 1024;
    total = total * scale / 10000;
    constexpr std::int64_t kMaxSupply = 1'000'000'000'000'000LL;  // GRAPHENE_MAX_SHARE_SUPPLY
    return total > static_cast<unsigned __int128>(kMaxSupply) ? kMaxSupply : static_cast<std::int64_t>(total);
}

std::string target_size_error(std::uint64_t target, std::uint32_t chain_max) {
    return "target_size " + std::to_string(target) + " bytes exceeds the chain's maximum_transaction_size of " +
           std::to_string(chain_max) +
           " bytes: the committee must raise the chain parameter maximum_transaction_size "
           "(committee_member_update_global_parameters) before transactions this large are accepted";
}

util::Result<TxFactory> TxFactory::create(FactorySetup setup) {
    const auto& sh = setup.shape;
    if (setup.accounts.empty()) return util::Error{"no accounts to sign with"};
    if (setup.mix.total() <= 0) return util::Error{"the operation mix has no positive weight"};
    bool transfers = setup.mix.transfer > 0 || sh.target_size > 0;
    if (transfers && setup.accounts.size() < 2)
        return util::Error{"transfers need at least two accounts (they go from one account of the run to another)"};
    if (sh.target_size > setup.max_transaction_size)
        return util::Error{target_size_error(sh.target_size, setup.max_transaction_size)};
    if (setup.mix.limit_order_create > 0 && setup.sell_asset == setup.receive_asset)
        return util::Error{"limit orders need two different assets"};
    if (sh.ops_min < 1 || sh.ops_max < sh.ops_min) return util::Error{"ops_per_tx must be MIN..MAX with 1 <= MIN <= MAX"};
    return TxFactory(std::move(setup));
}

TxFactory::TxFactory(FactorySetup setup) : setup_(std::move(setup)) {
    // W: the narrowest amount range that can carry the per-second counter.
    std::uint64_t w = std::uint64_t{1} << 40;
    if (setup_.mix.transfer > 0) w = std::min(w, setup_.shape.transfer_amount.width());
    if (setup_.mix.limit_order_create > 0 || setup_.mix.limit_order_cancel > 0)
        w = std::min(w, setup_.shape.order_amount.width());
    w_ = std::max<std::uint64_t>(w, 1);
    // A multiplier coprime with W makes k -> (a*k + b) mod W a permutation.
    std::uint64_t s = setup_.seed;
    a_ = w_ > 1 ? 1 + splitmix(s) % (w_ - 1) : 1;
    while (std::gcd(a_, w_) != 1) a_ = a_ + 1 < w_ ? a_ + 1 : 1;
    open_orders_.resize(setup_.accounts.size());
}

void TxFactory::add_cancellable(std::uint32_t account, protocol::LimitOrderId order) {
    if (account < open_orders_.size()) open_orders_[account].push_back(order);
}

std::size_t TxFactory::cancellable() const {
    std::size_t n = 0;
    for (const auto& q : open_orders_) n += q.size();
    return n;
}

void TxFactory::set_reference(const protocol::BlockId& ref_block, std::uint32_t expiration_floor,
                              double txs_per_second) {
    tapos_ = protocol::tapos_from_block_id(ref_block);
    floor_ = expiration_floor;
    rate_ = txs_per_second > 0 ? txs_per_second : 0;
    batch_first_n_ = n_;
}

TxFactory::OpKind TxFactory::draw_kind(std::uint64_t& rng, std::uint32_t signer) {
    const auto& m = setup_.mix;
    double r = draw_unit(rng) * m.total();
    OpKind kind = r < m.transfer ? OpKind::transfer
                  : r < m.transfer + m.limit_order_create ? OpKind::create
                                                          : OpKind::cancel;
    if (kind == OpKind::cancel && open_orders_[signer].empty()) {
        ++counters_.cancels_substituted;
        kind = m.limit_order_create > 0 || m.transfer <= 0 ? OpKind::create : OpKind::transfer;
    }
    return kind;
}

std::uint32_t TxFactory::other_account(std::uint64_t& rng, std::uint32_t signer) const {
    auto n = static_cast<std::uint32_t>(setup_.accounts.size());
    if (n < 2) return signer;
    auto j = static_cast<std::uint32_t>(splitmix(rng) % (n - 1));
    return j >= signer ? j + 1 : j;
}

void TxFactory::next(GeneratedTx& out) {
    using namespace protocol;
    const std::uint64_t n = n_++;
    ++counters_.generated;
    std::uint64_t rng = mix2(setup_.seed, n);
    const auto signer = static_cast<std::uint32_t>(n % setup_.accounts.size());
    const FactoryAccount& from = setup_.accounts[signer];
    const auto& sh = setup_.shape;

    // Expiration second and slot within it (see the header: uniqueness).
    std::uint32_t want = floor_;
    if (rate_ > 0)
        want += static_cast<std::uint32_t>(static_cast<double>(n - batch_first_n_) / rate_);
    if (want > x_) {
        x_ = want;
        k_ = 0;
    }
    if (k_ >= w_) {
        ++x_;
        k_ = 0;
        ++counters_.expiration_bumps;
    }
    const std::uint64_t slot = k_++;
    const std::uint64_t salt = static_cast<std::uint64_t>(
        (static_cast<unsigned __int128>(a_) * slot + mix2(setup_.seed ^ 0x5a17, x_) % w_) % w_);

    out.n = n;
    out.signer = signer;
    SignedTransaction& tx = out.tx;
    tx.ref_block_num = tapos_.ref_block_num;
    tx.ref_block_prefix = tapos_.ref_block_prefix;
    tx.expiration = TimePointSec{x_};
    tx.operations.clear();
    tx.signatures.clear();

    auto ops = sh.ops_min + static_cast<std::uint32_t>(splitmix(rng) % (sh.ops_max - sh.ops_min + 1));
    bool salted = false;
    for (std::uint32_t i = 0; i < ops; ++i) {
        switch (draw_kind(rng, signer)) {
            case OpKind::transfer: {
                TransferOp op;
                op.fee = Asset{setup_.fees.fee(setup_.fees.transfer), setup_.fee_asset};
                op.from = from.id;
                op.to = setup_.accounts[other_account(rng, signer)].id;
                std::int64_t amount = draw_in(rng, sh.transfer_amount);
                if (!salted) {
                    amount = sh.transfer_amount.min + static_cast<std::int64_t>(salt);
                    salted = true;
                }
                op.amount = Asset{amount, setup_.fee_asset};
                tx.operations.emplace_back(std::move(op));
                ++counters_.transfers;
                break;
            }
            case OpKind::create: {
                LimitOrderCreateOp op;
                op.fee = Asset{setup_.fees.fee(setup_.fees.limit_order_create), setup_.fee_asset};
                op.seller = from.id;
                std::int64_t amount = draw_in(rng, sh.order_amount);
                if (!salted) {
                    amount = sh.order_amount.min + static_cast<std::int64_t>(salt);
                    salted = true;
                }
                double price = sh.price_min + (sh.price_max - sh.price_min) * draw_unit(rng);
                auto receive = static_cast<std::int64_t>(std::llround(static_cast<double>(amount) * price));
                op.amount_to_sell = Asset{amount, setup_.sell_asset};
                op.min_to_receive = Asset{std::max<std::int64_t>(receive, 1), setup_.receive_asset};
                if (sh.order_lifetime) {
                    auto secs = std::chrono::duration_cast<std::chrono::seconds>(*sh.order_lifetime).count();
                    op.expiration = TimePointSec{static_cast<std::uint32_t>(
                        std::min<std::int64_t>(std::int64_t{x_} + secs, TimePointSec::maximum() - 1))};
                } else {
                    op.expiration = TimePointSec{TimePointSec::maximum()};
                }
                op.fill_or_kill = false;
                tx.operations.emplace_back(std::move(op));
                ++counters_.orders_created;
                break;
            }
            case OpKind::cancel: {
                LimitOrderCancelOp op;
                op.fee = Asset{setup_.fees.fee(setup_.fees.limit_order_cancel), setup_.fee_asset};
                op.fee_paying_account = from.id;
                op.order = open_orders_[signer].front();
                open_orders_[signer].pop_front();
                tx.operations.emplace_back(std::move(op));
                ++counters_.orders_cancelled;
                break;
            }
        }
    }
    if (sh.target_size > 0) fill_to_target(out, rng);
}

void TxFactory::fill_to_target(GeneratedTx& out, std::uint64_t& rng) {
    using namespace protocol;
    auto& tx = out.tx;
    const auto& sh = setup_.shape;
    auto signed_size = [&tx] { return pack_unsigned(tx).size() + kSignedOverhead; };
    std::uint64_t size = signed_size();
    if (size >= sh.target_size) return;
    TransferOp* carrier = nullptr;
    for (auto& op : tx.operations)
        if (auto* t = std::get_if<TransferOp>(&op)) {
            carrier = t;
            break;
        }
    if (!carrier) {
        TransferOp op;
        op.fee = Asset{setup_.fees.fee(setup_.fees.transfer), setup_.fee_asset};
        op.from = setup_.accounts[out.signer].id;
        op.to = setup_.accounts[other_account(rng, out.signer)].id;
        op.amount = Asset{draw_in(rng, sh.transfer_amount), setup_.fee_asset};
        tx.operations.emplace_back(std::move(op));
        ++counters_.transfers;
        carrier = &std::get<TransferOp>(tx.operations.back());
        size = signed_size();
        if (size >= sh.target_size) return;
    }
    // The memo replaces the absent-optional byte: growth = kMemoFixed + varint(L) + L.
    std::uint64_t deficit = sh.target_size - size;
    if (deficit < kMemoFixed + 1) return;
    std::uint64_t len = 0;
    for (std::uint64_t v = 1; v <= 5; ++v) {
        if (deficit < kMemoFixed + v) break;
        std::uint64_t l = deficit - kMemoFixed - v;
        if (varint_size(l) == v) len = l;  // exact fit
        else if (varint_size(l) < v && l > len) len = l;  // just under (a varint length boundary)
    }
    Memo memo;
    memo.from = setup_.accounts[out.signer].key;
    memo.to = memo.from;
    memo.nonce = out.n;
    memo.message.data.resize(len);
    std::uint64_t word = 0;
    for (std::uint64_t i = 0; i < len; ++i) {
        if (i % 8 == 0) word = splitmix(rng);
        memo.message.data[i] = static_cast<std::uint8_t>(word >> (8 * (i % 8)));
    }
    std::uint64_t memo_bytes = kMemoFixed + varint_size(len) + len;
    carrier->memo = std::move(memo);
    carrier->fee = Asset{setup_.fees.fee(setup_.fees.transfer, memo_bytes, setup_.fees.transfer_per_kbyte),
                         setup_.fee_asset};
    ++counters_.filled;
}

}  // namespace bts::beacon
