// bts-devnet chain: push/apply of transactions, authority checks, evaluators, block production.
#include "actors/devnet/chain.hpp"

#include "actors/devnet/objects.hpp"

#include "common/crypto/hash.hpp"
#include "common/protocol/raw.hpp"
#include "common/util/config.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

namespace bts::devnet {

using protocol::AccountId;
using protocol::Asset;
using protocol::AssetId;
using protocol::Price;
using protocol::TimePointSec;

// ---------------------------------------------------------------------------------------------
// Errors

std::string format_fc(std::string_view format, const Json& data) {
    std::string out;
    out.reserve(format.size() + 32);
    std::size_t i = 0;
    while (i < format.size()) {
        if (format[i] == '$' && i + 1 < format.size() && format[i + 1] == '{') {
            auto close = format.find('}', i + 2);
            if (close != std::string_view::npos) {
                std::string key(format.substr(i + 2, close - i - 2));
                auto it = data.find(key);
                if (it != data.end()) {
                    if (it->is_string())
                        out += it->get_ref<const std::string&>();
                    else
                        out += it->dump();
                    i = close + 1;
                    continue;
                }
            }
        }
        out += format[i++];
    }
    return out;
}

std::string ChainError::message() const {
    std::string out = what + ":";
    for (const auto& m : stack) {
        if (m.format.empty()) continue;
        out += ' ';
        out += format_fc(m.format, m.data);
    }
    return out;
}

Json ChainError::data_json() const {
    Json s = Json::array();
    for (const auto& m : stack) {
        Json ctx = Json::object();
        ctx["level"] = "error";
        ctx["file"] = "bts-devnet";
        ctx["line"] = 0;
        ctx["method"] = m.method;
        ctx["hostname"] = "";
        ctx["timestamp"] = "";
        Json e = Json::object();
        e["context"] = std::move(ctx);
        e["format"] = m.format;
        e["data"] = m.data;
        s.push_back(std::move(e));
    }
    Json d = Json::object();
    d["code"] = code;
    d["name"] = name;
    d["message"] = what;
    d["stack"] = std::move(s);
    return d;
}

ChainError ChainError::assertion(std::string_view expr, std::string_view msg, Json data, std::string_view method) {
    ChainError e;
    std::string format(expr);
    format += ": ";
    format += msg;
    e.stack.push_back({std::move(format), std::move(data), std::string(method)});
    return e;
}

ChainError ChainError::make(std::int64_t code, std::string_view name, std::string_view what, std::string_view format,
                            Json data, std::string_view method) {
    ChainError e;
    e.code = code;
    e.name = name;
    e.what = what;
    e.stack.push_back({std::string(format), std::move(data), std::string(method)});
    return e;
}

namespace {

constexpr std::uint64_t kTempAccount = 4;  // GRAPHENE_TEMP_ACCOUNT
constexpr std::size_t kMaxSignedTxSize = 1024 * 1024;
constexpr std::uint32_t kWitnessCount = 11;  // init0..init10 on a dev chain

using U128 = unsigned __int128;

// asset * price, rounded down (protocol/asset.cpp operator*).
Asset mul(const Asset& a, const Price& p) {
    if (a.asset_id == p.base.asset_id) {
        U128 r = U128(std::uint64_t(a.amount)) * std::uint64_t(p.quote.amount) / std::uint64_t(p.base.amount);
        return {std::int64_t(r), p.quote.asset_id};
    }
    U128 r = U128(std::uint64_t(a.amount)) * std::uint64_t(p.base.amount) / std::uint64_t(p.quote.amount);
    return {std::int64_t(r), p.base.asset_id};
}

// asset::multiply_and_round_up.
Asset mul_round_up(const Asset& a, const Price& p) {
    if (a.asset_id == p.base.asset_id) {
        U128 r = (U128(std::uint64_t(a.amount)) * std::uint64_t(p.quote.amount) + std::uint64_t(p.base.amount) - 1) /
                 std::uint64_t(p.base.amount);
        return {std::int64_t(r), p.quote.asset_id};
    }
    U128 r = (U128(std::uint64_t(a.amount)) * std::uint64_t(p.base.amount) + std::uint64_t(p.quote.amount) - 1) /
             std::uint64_t(p.quote.amount);
    return {std::int64_t(r), p.base.asset_id};
}

// price operator< for two prices of the same market: a.base/a.quote < b.base/b.quote.
bool price_less(const Price& a, const Price& b) {
    return U128(std::uint64_t(b.quote.amount)) * std::uint64_t(a.base.amount) <
           U128(std::uint64_t(a.quote.amount)) * std::uint64_t(b.base.amount);
}

Price invert(const Price& p) { return {p.quote, p.base}; }

std::string account_id_string(std::uint64_t instance) { return protocol::to_string(AccountId{instance}); }

// Packed size of memo_data (what transfer fees charge per kilobyte).
std::uint64_t memo_packed_size(const protocol::Memo& m) {
    std::uint64_t n = m.message.data.size();
    std::uint64_t varint = 1;
    for (std::uint64_t v = n; v >= 0x80; v >>= 7) ++varint;
    return 33 + 33 + 8 + varint + n;
}

std::uint64_t fee_param(const FeeSchedule& s, std::uint32_t tag, std::string_view name) {
    auto it = s.parameters.find(tag);
    if (it == s.parameters.end()) return 0;
    return std::uint64_t(std::max<std::int64_t>(0, it->second.get(name, 0)));
}

std::uint64_t base_fee(const FeeSchedule& s, std::uint32_t tag) {
    auto it = s.parameters.find(tag);
    if (it == s.parameters.end()) return 0;
    if (auto v = it->second.get("fee", -1); v >= 0) return std::uint64_t(v);
    if (auto v = it->second.get("basic_fee", -1); v >= 0) return std::uint64_t(v);
    return 0;
}

bool is_supported(const protocol::Operation& op) {
    return std::holds_alternative<protocol::TransferOp>(op) || std::holds_alternative<protocol::LimitOrderCreateOp>(op) ||
           std::holds_alternative<protocol::LimitOrderCancelOp>(op);
}

std::uint64_t fee_payer(const protocol::Operation& op) {
    if (auto* t = std::get_if<protocol::TransferOp>(&op)) return t->from.instance;
    if (auto* c = std::get_if<protocol::LimitOrderCreateOp>(&op)) return c->seller.instance;
    if (auto* x = std::get_if<protocol::LimitOrderCancelOp>(&op)) return x->fee_paying_account.instance;
    return 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Undo log

struct Chain::UndoEntry {
    struct Balance {
        std::size_t slot;
        std::int64_t delta;
        bool created;
    };
    struct AssetDyn {
        std::uint64_t asset;
        std::int64_t fee_pool_delta;
        std::int64_t accumulated_delta;
    };
    struct OrderCreated {
        std::uint64_t id;
    };
    struct OrderRemoved {
        LimitOrder order;
    };
    struct OrderModified {
        LimitOrder old;
    };
    struct Known {
        protocol::TransactionId id;
    };
    std::variant<Balance, AssetDyn, OrderCreated, OrderRemoved, OrderModified, Known> v;
};

std::size_t Chain::undo_mark() const { return undo_.size(); }

void Chain::undo_to(std::size_t mark) {
    while (undo_.size() > mark) {
        UndoEntry e = std::move(undo_.back());
        undo_.pop_back();
        std::visit(
            [this](auto& u) {
                using T = std::decay_t<decltype(u)>;
                if constexpr (std::is_same_v<T, UndoEntry::Balance>) {
                    balances_[u.slot] -= u.delta;
                    if (u.created) balance_objects_[u.slot] = 0;
                } else if constexpr (std::is_same_v<T, UndoEntry::AssetDyn>) {
                    assets_[u.asset].fee_pool -= u.fee_pool_delta;
                    assets_[u.asset].accumulated_fees -= u.accumulated_delta;
                } else if constexpr (std::is_same_v<T, UndoEntry::OrderCreated>) {
                    auto it = orders_.find(u.id);
                    const LimitOrder& o = it->second;
                    books_[{o.sell_price.base.asset_id.instance, o.sell_price.quote.asset_id.instance}].erase(
                        {o.sell_price, o.id});
                    order_expirations_.erase({o.expiration.seconds, o.id});
                    orders_.erase(it);
                    next_order_id_ = u.id;
                } else if constexpr (std::is_same_v<T, UndoEntry::OrderRemoved>) {
                    const LimitOrder& o = u.order;
                    books_[{o.sell_price.base.asset_id.instance, o.sell_price.quote.asset_id.instance}].insert(
                        {o.sell_price, o.id});
                    order_expirations_.insert({o.expiration.seconds, o.id});
                    orders_.emplace(o.id, o);
                } else if constexpr (std::is_same_v<T, UndoEntry::OrderModified>) {
                    orders_[u.old.id] = u.old;
                } else {
                    known_.erase(u.id);
                }
            },
            e.v);
    }
}

void Chain::adjust_balance(std::uint64_t account, const Asset& delta) {
    // database::adjust_balance (db_balance.cpp).
    if (delta.amount == 0) return;
    const auto& acc = get_account(account);
    std::size_t slot = account * assets_.size() + delta.asset_id.instance;
    bool created = false;
    if (!balance_objects_[slot]) {
        if (delta.amount < 0) {
            Json d = Json::object();
            d["a"] = acc.name;
            d["b"] = pretty({0, delta.asset_id});
            d["r"] = pretty({-delta.amount, delta.asset_id});
            throw ChainError::assertion("delta.amount > 0",
                                        "Insufficient Balance: ${a}'s balance of ${b} is less than required ${r}",
                                        std::move(d), "adjust_balance");
        }
        balance_objects_[slot] = 1;
        created = true;
    } else if (delta.amount < 0 && balances_[slot] < -delta.amount) {
        Json d = Json::object();
        d["a"] = acc.name;
        d["b"] = pretty({balances_[slot], delta.asset_id});
        d["r"] = pretty({-delta.amount, delta.asset_id});
        throw ChainError::assertion("abo->get_balance() >= -delta",
                                    "Insufficient Balance: ${a}'s balance of ${b} is less than required ${r}",
                                    std::move(d), "adjust_balance");
    }
    balances_[slot] += delta.amount;
    undo_.push_back({UndoEntry::Balance{slot, delta.amount, created}});
}

void Chain::adjust_asset(std::uint64_t asset, std::int64_t fee_pool_delta, std::int64_t accumulated_delta) {
    assets_[asset].fee_pool += fee_pool_delta;
    assets_[asset].accumulated_fees += accumulated_delta;
    undo_.push_back({UndoEntry::AssetDyn{asset, fee_pool_delta, accumulated_delta}});
}

void Chain::create_order(const LimitOrder& o) {
    orders_.emplace(o.id, o);
    books_[{o.sell_price.base.asset_id.instance, o.sell_price.quote.asset_id.instance}].insert({o.sell_price, o.id});
    order_expirations_.insert({o.expiration.seconds, o.id});
    next_order_id_ = o.id + 1;
    undo_.push_back({UndoEntry::OrderCreated{o.id}});
}

void Chain::remove_order(std::uint64_t id) {
    auto it = orders_.find(id);
    LimitOrder o = it->second;
    auto book = books_.find({o.sell_price.base.asset_id.instance, o.sell_price.quote.asset_id.instance});
    book->second.erase({o.sell_price, o.id});
    order_expirations_.erase({o.expiration.seconds, o.id});
    orders_.erase(it);
    undo_.push_back({UndoEntry::OrderRemoved{std::move(o)}});
}

void Chain::modify_order(std::uint64_t id, std::int64_t for_sale, std::int64_t deferred_fee,
                         const Asset& deferred_paid_fee) {
    LimitOrder& o = orders_.at(id);
    undo_.push_back({UndoEntry::OrderModified{o}});
    o.for_sale = for_sale;
    o.deferred_fee = deferred_fee;
    o.deferred_paid_fee = deferred_paid_fee;
}

void Chain::record_known(const std::shared_ptr<const PendingTx>& ptx) {
    known_.emplace(ptx->id, KnownTx{ptx->tx.expiration, TxLocation{0, 0, ptx}});
    undo_.push_back({UndoEntry::Known{ptx->id}});
}

// ---------------------------------------------------------------------------------------------
// Construction and lookups

bool Chain::BookKeyLess::operator()(const std::pair<Price, std::uint64_t>& a,
                                    const std::pair<Price, std::uint64_t>& b) const {
    // limit_order_index by_price: price descending (greater<price>), then id ascending.
    if (price_less(b.first, a.first)) return true;
    if (price_less(a.first, b.first)) return false;
    return a.second < b.second;
}

std::size_t Chain::TxIdHash::operator()(const protocol::TransactionId& id) const noexcept {
    std::size_t h;
    std::memcpy(&h, id.data.data(), sizeof h);  // the id is a hash already
    return h;
}

Price AssetState::core_exchange_rate(std::uint64_t instance) const {
    return Price{Asset{genesis.cer_asset, AssetId{instance}}, Asset{genesis.cer_core, AssetId{0}}};
}

Asset LimitOrder::amount_to_receive() const { return mul(amount_for_sale(), sell_price); }

void ChainConfig::validate() const {
    util::check_config(max_pending >= 1, "devnet.max_pending", "must be at least 1");
    util::check_config(apply_cost <= std::chrono::seconds(1), "devnet.apply_cost", "must be at most 1s");
    util::check_config(block_history_bytes >= (1u << 20), "devnet.block_history", "must be at least 1MiB");
}

Chain::Chain(const Genesis& genesis, ChainConfig config, TimePointSec start_time)
    : genesis_(genesis), config_(std::move(config)), block_summaries_(65536) {
    witness_key_ = crypto::PrivateKey::from_seed(ctx_, genesis_.witness_key_seed);
    head_time_ = start_time;
    genesis_time_ = start_time;

    // 1.2.0 - 1.2.5: reserved accounts. Their authorities cannot be satisfied by any key
    // (threshold 1, nothing listed), except temp-account whose threshold is 0, as on a real chain.
    for (std::size_t i = 0; i < std::size(kReservedAccounts); ++i) {
        AccountState a;
        a.name = std::string(kReservedAccounts[i]);
        a.owner.weight_threshold = i == kTempAccount ? 0 : 1;
        a.active = a.owner;
        accounts_.push_back(std::move(a));
    }
    for (const auto& g : genesis_.accounts) {
        AccountState a;
        a.name = g.name;
        a.owner = g.owner;
        a.active = g.active;
        a.memo_key = g.memo_key;
        accounts_.push_back(std::move(a));
    }
    for (std::size_t i = 0; i < accounts_.size(); ++i) account_names_.emplace(accounts_[i].name, i);

    for (std::size_t i = 0; i < genesis_.assets.size(); ++i) {
        AssetState s;
        s.genesis = genesis_.assets[i];
        s.issuer = *account_by_name(s.genesis.issuer);
        s.fee_pool = s.genesis.fee_pool;
        if (i == 0) s.genesis.cer_asset = s.genesis.cer_core = 1;
        asset_symbols_.emplace(s.genesis.symbol, i);
        assets_.push_back(std::move(s));
    }
    balances_.assign(accounts_.size() * assets_.size(), 0);
    balance_objects_.assign(balances_.size(), 0);
    for (std::size_t i = 0; i < genesis_.accounts.size(); ++i) {
        std::uint64_t account = kFirstGenesisAccount + i;
        for (const auto& [symbol, units] : genesis_.accounts[i].balances) {
            std::uint64_t asset = asset_symbols_.at(symbol);
            std::size_t slot = account * assets_.size() + asset;
            balances_[slot] += units;
            balance_objects_[slot] = 1;
            assets_[asset].current_supply += units;
        }
    }
}

Chain::~Chain() = default;

const AccountState* Chain::account(std::uint64_t instance) const {
    return instance < accounts_.size() ? &accounts_[instance] : nullptr;
}

std::optional<std::uint64_t> Chain::account_by_name(std::string_view name) const {
    auto it = account_names_.find(std::string(name));
    if (it == account_names_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::uint64_t> Chain::find_account(std::string_view name_or_id) const {
    if (auto id = protocol::parse_object_id(name_or_id)) {
        if (id->space == 1 && id->type == 2 && id->instance < accounts_.size()) return id->instance;
        return std::nullopt;
    }
    return account_by_name(name_or_id);
}

const AssetState* Chain::asset(std::uint64_t instance) const {
    return instance < assets_.size() ? &assets_[instance] : nullptr;
}

std::optional<std::uint64_t> Chain::find_asset(std::string_view symbol_or_id) const {
    if (auto id = protocol::parse_object_id(symbol_or_id)) {
        if (id->space == 1 && id->type == 3 && id->instance < assets_.size()) return id->instance;
        return std::nullopt;
    }
    auto it = asset_symbols_.find(std::string(symbol_or_id));
    if (it == asset_symbols_.end()) return std::nullopt;
    return it->second;
}

std::int64_t Chain::balance(std::uint64_t account, std::uint64_t asset) const {
    if (account >= accounts_.size() || asset >= assets_.size()) return 0;
    return balances_[account * assets_.size() + asset];
}

bool Chain::has_balance_object(std::uint64_t account, std::uint64_t asset) const {
    if (account >= accounts_.size() || asset >= assets_.size()) return false;
    return balance_objects_[account * assets_.size() + asset] != 0;
}

const LimitOrder* Chain::order(std::uint64_t instance) const {
    auto it = orders_.find(instance);
    return it == orders_.end() ? nullptr : &it->second;
}

std::vector<const LimitOrder*> Chain::order_book(std::uint64_t sell, std::uint64_t receive, std::size_t limit) const {
    std::vector<const LimitOrder*> out;
    auto it = books_.find({sell, receive});
    if (it == books_.end()) return out;
    for (const auto& [price, id] : it->second) {
        if (out.size() >= limit) break;
        out.push_back(&orders_.at(id));
    }
    return out;
}

const AccountState& Chain::get_account(std::uint64_t instance) const {
    if (instance >= accounts_.size()) {
        Json d = Json::object();
        d["id"] = account_id_string(instance);
        throw ChainError::assertion("maybe_found != nullptr", "Unable to find Object", std::move(d), "get");
    }
    return accounts_[instance];
}

const AssetState& Chain::get_asset(std::uint64_t instance) const {
    if (instance >= assets_.size()) {
        Json d = Json::object();
        d["id"] = protocol::to_string(AssetId{instance});
        throw ChainError::assertion("maybe_found != nullptr", "Unable to find Object", std::move(d), "get");
    }
    return assets_[instance];
}

std::string Chain::pretty(const Asset& a) const {
    // asset_object::amount_to_pretty_string: decimals only when non-zero, never trimmed.
    const AssetState* s = asset(a.asset_id.instance);
    std::uint8_t precision = s ? s->genesis.precision : 0;
    std::int64_t scale = 1;
    for (int i = 0; i < precision; ++i) scale *= 10;
    std::string result = std::to_string(a.amount / scale);
    std::int64_t decimals = a.amount % scale;
    if (decimals < 0) decimals = -decimals;
    if (decimals) {
        if (a.amount < 0 && result == "0") result = "-0";
        result += "." + std::to_string(scale + decimals).substr(1);
    }
    return result + " " + (s ? s->genesis.symbol : protocol::to_string(a.asset_id));
}

std::int64_t Chain::required_core_fee(const protocol::Operation& op) const {
    // fee_schedule::calculate_fee: the operation's calculate_fee, then scale.
    const auto& s = genesis_.fees;
    std::uint32_t tag = protocol::op_tag(op);
    U128 fee = base_fee(s, tag);
    if (auto* t = std::get_if<protocol::TransferOp>(&op); t && t->memo)
        fee += U128(memo_packed_size(*t->memo)) * fee_param(s, 0, "price_per_kbyte") / 1024;
    if (s.scale != 10000) fee = fee * s.scale / 10000;
    return std::int64_t(fee);
}

ChainError Chain::refuse_pool_full() {
    ++stats_.rejected;
    ++stats_.pool_full;
    Json d = Json::object();
    d["pending"] = pending_.size();
    d["max_pending"] = config_.max_pending;
    return ChainError::make(error_code::pending_pool_full, "pending_pool_full", "pending pool full",
                            "${pending} transactions are pending (max_pending ${max_pending}); retry after the next block",
                            std::move(d), "push_transaction");
}

// ---------------------------------------------------------------------------------------------
// push_transaction

void Chain::busy_wait(std::size_t ops) const {
    if (config_.apply_cost.count() <= 0 || ops == 0) return;
    auto until = std::chrono::steady_clock::now() + config_.apply_cost * std::int64_t(ops);
    while (std::chrono::steady_clock::now() < until) {
    }
}

PushResult Chain::push_transaction(protocol::SignedTransaction tx) {
    PushResult result;
    if (pool_full()) {
        result.error = refuse_pool_full();
        return result;
    }
    auto ptx = std::make_shared<PendingTx>();
    try {
        // precompute_parallel: validate, id, signature keys.
        if (tx.operations.empty())
            throw ChainError::assertion("operations.size() > 0", "A transaction must have at least one operation",
                                        Json::object(), "validate");
        for (const auto& op : tx.operations) {
            if (auto failed = protocol::validate(op)) throw ChainError::assertion(*failed, {}, Json::object(), "validate");
        }
        for (const auto& op : tx.operations) {
            if (!is_supported(op)) {
                Json d = Json::object();
                d["op"] = std::string(protocol::op_name(op));
                d["tag"] = protocol::op_tag(op);
                throw ChainError::assertion(
                    "devnet_evaluates( op )",
                    "bts-devnet does not evaluate ${op} (operation ${tag}); it evaluates transfer, "
                    "limit_order_create and limit_order_cancel",
                    std::move(d), "apply_operation");
            }
        }
        ptx->packed = protocol::pack_unsigned(tx);
        ptx->unsigned_size = std::uint32_t(ptx->packed.size());
        ptx->id = protocol::transaction_id(ptx->packed);
        result.id = ptx->id;
        if (!config_.trust_signatures && !tx.signatures.empty()) {
            auto digest = protocol::signing_digest(genesis_.chain_id, ptx->packed);
            ptx->signers.reserve(tx.signatures.size());
            for (const auto& sig : tx.signatures) {
                // fc::ecc::public_key(compact_signature, digest, check_canonical = true)
                if (sig[0] < 27 || sig[0] >= 35)
                    throw ChainError::make(error_code::unspecified, "exception", "unspecified",
                                           "unable to reconstruct public key from signature", Json::object(),
                                           "public_key");
                if (!crypto::is_canonical(sig))
                    throw ChainError::assertion("is_canonical( c )", "signature is not canonical", Json::object(),
                                                "public_key");
                auto key = crypto::recover(ctx_, sig, digest, false);
                if (!key)
                    throw ChainError::assertion(
                        "secp256k1_ecdsa_recover_compact( detail::_get_context(), (unsigned char*) digest.data(), "
                        "(unsigned char*) c.begin() + 1, (unsigned char*) my->_key.begin(), (int*) &pk_len, 1, "
                        "(*c.begin() - 27) & 3 )",
                        {}, Json::object(), "public_key");
                // get_signature_keys inserts into a flat_set<public_key_type>.
                auto pos = std::lower_bound(ptx->signers.begin(), ptx->signers.end(), *key,
                                            [](const auto& a, const auto& b) { return crypto::address_less(a, b); });
                if (pos != ptx->signers.end() && *pos == *key)
                    throw ChainError::make(error_code::tx_duplicate_sig, "tx_duplicate_sig",
                                           "duplicate signature included", "Duplicate Signature detected",
                                           Json::object(), "get_signature_keys");
                ptx->signers.insert(pos, *key);
            }
        }
        // Signed bytes: unsigned + varint(n) + n * 65.
        protocol::RawWriter w(ptx->packed);
        w.varint(tx.signatures.size());
        for (const auto& sig : tx.signatures) w.bytes(sig.data(), sig.size());
        if (ptx->packed.size() >= kMaxSignedTxSize)
            throw ChainError::assertion("fc::raw::pack_size( trx ) < (1024 * 1024)",
                                        "Transaction exceeds maximum transaction size.", Json::object(),
                                        "push_transaction");
        busy_wait(tx.operations.size());
        ptx->tx = std::move(tx);
    } catch (ChainError& e) {
        ++stats_.rejected;
        result.error = std::move(e);
        return result;
    }

    std::shared_ptr<const PendingTx> shared = std::move(ptx);
    std::size_t mark = undo_mark();
    try {
        apply_transaction(shared);
    } catch (ChainError& e) {
        undo_to(mark);
        ++stats_.rejected;
        result.error = std::move(e);
        return result;
    } catch (const std::exception& e) {
        undo_to(mark);
        ++stats_.rejected;
        result.error = ChainError::make(error_code::unspecified, "exception", "unspecified", "${what}",
                                        Json::object({{"what", e.what()}}), "push_transaction");
        return result;
    }
    pending_.push_back(shared);
    ++stats_.pushed;
    result.tx = std::move(shared);
    return result;
}

void Chain::apply_transaction(const std::shared_ptr<const PendingTx>& ptx) {
    const auto& trx = ptx->tx;
    // Duplicate check.
    if (known_.count(ptx->id)) {
        Json d = Json::object();
        d["txid"] = crypto::to_hex(ptx->id.data);
        throw ChainError::make(error_code::duplicate_transaction, "duplicate_transaction", "duplicate transaction",
                               "Transaction '${txid}' is already in the database", std::move(d),
                               "_apply_transaction");
    }
    if (!config_.trust_signatures) verify_authority(*ptx);

    // TaPoS and expiration are skipped before the first block, as on the real node.
    if (head_num_ > 0) {
        const auto& summary = block_summaries_[trx.ref_block_num];
        std::uint32_t prefix = protocol::tapos_from_block_id(summary).ref_block_prefix;
        if (trx.ref_block_prefix != prefix)
            throw ChainError::assertion("trx.ref_block_prefix == tapos_block_summary.block_id._hash[1].value()", {},
                                        Json::object(), "_apply_transaction");
        std::uint64_t now = head_time_.seconds;
        if (trx.expiration.seconds > now + genesis_.parameters.maximum_time_until_expiration) {
            Json d = Json::object();
            d["trx.expiration"] = protocol::to_iso_string(trx.expiration);
            d["now"] = protocol::to_iso_string(head_time_);
            d["max_til_exp"] = genesis_.parameters.maximum_time_until_expiration;
            throw ChainError::assertion("trx.expiration <= now + chain_parameters.maximum_time_until_expiration", {},
                                        std::move(d), "_apply_transaction");
        }
        if (now > trx.expiration.seconds) {
            Json d = Json::object();
            d["now"] = protocol::to_iso_string(head_time_);
            d["trx.exp"] = protocol::to_iso_string(trx.expiration);
            throw ChainError::assertion("now <= trx.expiration", {}, std::move(d), "_apply_transaction");
        }
        if (ptx->unsigned_size > genesis_.parameters.maximum_transaction_size)
            throw ChainError::assertion(
                "head_block_time() <= HARDFORK_CORE_1573_TIME || trx.get_packed_size() <= "
                "chain_parameters.maximum_transaction_size",
                "Transaction exceeds maximum transaction size.", Json::object(), "_apply_transaction");
    }
    record_known(ptx);
    for (const auto& op : trx.operations) apply_operation(op);
}

void Chain::verify_authority(const PendingTx& ptx) const {
    // protocol/transaction.cpp verify_authority + sign_state, allow_non_immediate_owner = true.
    std::vector<std::uint64_t> required;
    for (const auto& op : ptx.tx.operations) required.push_back(fee_payer(op));
    std::sort(required.begin(), required.end());
    required.erase(std::unique(required.begin(), required.end()), required.end());

    struct SignState {
        const Chain& chain;
        std::vector<std::pair<protocol::PublicKey, bool>> provided;
        std::vector<std::uint64_t> approved_by{kTempAccount};
        std::uint32_t max_recursion;

        bool signed_by(const protocol::PublicKey& k) {
            for (auto& [key, used] : provided)
                if (key == k) return used = true;
            return false;
        }
        bool approved(std::uint64_t id) const {
            return std::find(approved_by.begin(), approved_by.end(), id) != approved_by.end();
        }
        bool check_account(std::uint64_t id) {
            if (approved(id)) return true;
            const auto& a = chain.get_account(id);
            return check(a.active, 0) || check(a.owner, 0);
        }
        bool check(const protocol::Authority& auth, std::uint32_t depth) {
            std::uint32_t total = 0;
            for (const auto& [k, w] : auth.key_auths.items)
                if (signed_by(k)) {
                    total += w;
                    if (total >= auth.weight_threshold) return true;
                }
            for (const auto& [a, w] : auth.account_auths.items) {
                if (!approved(a.instance)) {
                    if (depth == max_recursion) continue;
                    const auto& acc = chain.get_account(a.instance);
                    if (check(acc.active, depth + 1) || check(acc.owner, depth + 1)) {
                        approved_by.push_back(a.instance);
                        total += w;
                        if (total >= auth.weight_threshold) return true;
                    }
                } else {
                    total += w;
                    if (total >= auth.weight_threshold) return true;
                }
            }
            return total >= auth.weight_threshold;
        }
    };
    SignState s{*this, {}, {kTempAccount}, genesis_.parameters.max_authority_depth};
    s.provided.reserve(ptx.signers.size());
    for (const auto& k : ptx.signers) s.provided.push_back({k, false});

    for (std::uint64_t id : required) {
        if (!(s.check_account(id) || s.check(get_account(id).owner, 0))) {
            Json d = Json::object();
            d["id"] = account_id_string(id);
            d["auth"] = authority_to_json(get_account(id).active, genesis_.address_prefix);
            d["owner"] = authority_to_json(get_account(id).owner, genesis_.address_prefix);
            throw ChainError::make(error_code::tx_missing_active_auth, "tx_missing_active_auth",
                                   "missing required active authority", "Missing Active Authority ${id}", std::move(d),
                                   "verify_authority");
        }
    }
    for (const auto& [k, used] : s.provided)
        if (!used)
            throw ChainError::make(error_code::tx_irrelevant_sig, "tx_irrelevant_sig", "irrelevant signature included",
                                   "Unnecessary signature(s) detected", Json::object(), "verify_authority");
}

// ---------------------------------------------------------------------------------------------
// Evaluators

void Chain::apply_operation(const protocol::Operation& op) {
    if (auto* t = std::get_if<protocol::TransferOp>(&op)) return apply_transfer(*t);
    if (auto* c = std::get_if<protocol::LimitOrderCreateOp>(&op)) return apply_limit_order_create(*c);
    if (auto* x = std::get_if<protocol::LimitOrderCancelOp>(&op)) return apply_limit_order_cancel(*x);
    throw ChainError::assertion("eval", "No registered evaluator for operation", Json::object(), "apply_operation");
}

Chain::Fee Chain::prepare_fee(std::uint64_t payer, const Asset& fee, const protocol::Operation& op) {
    // generic_evaluator::prepare_fee, then the fee check of op_evaluator_impl::evaluate.
    Fee f;
    f.payer = payer;
    f.paid = fee;
    if (fee.amount < 0) throw ChainError::assertion("fee.amount >= 0", {}, Json::object(), "prepare_fee");
    get_account(payer);
    const AssetState& fee_asset = get_asset(fee.asset_id.instance);
    if (fee.asset_id.instance == 0) {
        f.core_paid = fee.amount;
    } else {
        Asset from_pool = mul(fee, fee_asset.core_exchange_rate(fee.asset_id.instance));
        f.core_paid = from_pool.amount;
        if (f.core_paid > fee_asset.fee_pool) {
            Json d = Json::object();
            d["r"] = pretty(from_pool);
            d["b"] = pretty({fee_asset.fee_pool, AssetId{0}});
            d["c"] = pretty(fee);
            throw ChainError::assertion("core_fee_paid <= fee_asset_dyn_data->fee_pool",
                                        "Fee pool balance of '${b}' is less than the ${r} required to convert ${c}",
                                        std::move(d), "prepare_fee");
        }
    }
    std::int64_t required = required_core_fee(op);
    if (f.core_paid < required) {
        Json d = Json::object();
        d["core_fee_paid"] = int64_to_json(f.core_paid);
        d["required"] = int64_to_json(required);
        throw ChainError::make(error_code::insufficient_fee, "insufficient_fee", "insufficient fee",
                               "Insufficient Fee Paid", std::move(d), "evaluate");
    }
    return f;
}

void Chain::apply_transfer(const protocol::TransferOp& op) {
    Fee fee = prepare_fee(op.from.instance, op.fee, protocol::Operation{op});
    // transfer_evaluator::do_evaluate
    const auto& from = get_account(op.from.instance);
    const auto& to = get_account(op.to.instance);
    get_asset(op.amount.asset_id.instance);
    std::int64_t bal = balance(op.from.instance, op.amount.asset_id.instance);
    if (bal < op.amount.amount) {
        ChainError e;
        Json d = Json::object();
        d["a"] = from.name;
        d["t"] = to.name;
        d["total_transfer"] = pretty(op.amount);
        d["balance"] = pretty({bal, op.amount.asset_id});
        e.stack.push_back({"insufficient_balance: Insufficient Balance: ${balance}, unable to transfer "
                           "'${total_transfer}' from account '${a}' to '${t}'",
                           std::move(d), "do_evaluate"});
        Json r = Json::object();
        r["a"] = pretty(op.amount);
        r["f"] = from.name;
        r["t"] = to.name;
        e.stack.push_back({"Unable to transfer ${a} from ${f} to ${t}", std::move(r), "do_evaluate"});
        throw e;
    }
    // convert_fee (non-core fee: fee pool pays the core fee), do_apply, then the fee.
    if (fee.paid.asset_id.instance != 0) adjust_asset(fee.paid.asset_id.instance, -fee.core_paid, fee.paid.amount);
    adjust_balance(op.from.instance, {-op.amount.amount, op.amount.asset_id});
    adjust_balance(op.to.instance, op.amount);
    adjust_balance(fee.payer, {-fee.paid.amount, fee.paid.asset_id});
}

void Chain::apply_limit_order_create(const protocol::LimitOrderCreateOp& op) {
    Fee fee = prepare_fee(op.seller.instance, op.fee, protocol::Operation{op});
    // limit_order_create_evaluator::do_evaluate
    if (op.expiration < head_time_)
        throw ChainError::assertion("op.expiration >= d.head_block_time()", {}, Json::object(), "do_evaluate");
    get_asset(op.amount_to_sell.asset_id.instance);
    get_asset(op.min_to_receive.asset_id.instance);
    std::int64_t bal = balance(op.seller.instance, op.amount_to_sell.asset_id.instance);
    if (bal < op.amount_to_sell.amount) {
        Json d = Json::object();
        d["balance"] = asset_to_json({bal, op.amount_to_sell.asset_id});
        d["amount_to_sell"] = asset_to_json(op.amount_to_sell);
        throw ChainError::make(error_code::limit_order_create_insufficient_balance,
                               "limit_order_create_insufficient_balance", "Insufficient balance",
                               "insufficient balance", std::move(d), "do_evaluate");
    }
    // convert_fee (after core-604 only the fee pool is charged now) and pay_fee (deferred).
    std::int64_t deferred_fee = fee.core_paid;
    Asset deferred_paid_fee{0, AssetId{0}};
    if (fee.paid.asset_id.instance != 0) {
        adjust_asset(fee.paid.asset_id.instance, -fee.core_paid, 0);
        deferred_paid_fee = fee.paid;
    }
    // do_apply
    adjust_balance(op.seller.instance, {-op.amount_to_sell.amount, op.amount_to_sell.asset_id});
    LimitOrder o;
    o.id = next_order_id_;
    o.expiration = op.expiration;
    o.seller = op.seller.instance;
    o.for_sale = op.amount_to_sell.amount;
    o.sell_price = Price{op.amount_to_sell, op.min_to_receive};
    o.deferred_fee = deferred_fee;
    o.deferred_paid_fee = deferred_paid_fee;
    create_order(o);
    bool filled = apply_order(o.id);
    if (op.fill_or_kill && !filled) {
        Json d = Json::object();
        d["op"] = protocol::to_json(protocol::Operation{op}, {genesis_.address_prefix})[1];
        throw ChainError::make(error_code::limit_order_create_kill_unfilled, "limit_order_create_kill_unfilled",
                               "Killing limit order due to unable to fill",
                               "Killing limit order ${op} due to unable to fill", std::move(d), "do_apply");
    }
    adjust_balance(fee.payer, {-fee.paid.amount, fee.paid.asset_id});
}

void Chain::apply_limit_order_cancel(const protocol::LimitOrderCancelOp& op) {
    Fee fee = prepare_fee(op.fee_paying_account.instance, op.fee, protocol::Operation{op});
    auto it = orders_.find(op.order.instance);
    Json d = Json::object();
    d["oid"] = protocol::to_string(op.order);
    if (it == orders_.end())
        throw ChainError::make(error_code::limit_order_cancel_nonexist_order, "limit_order_cancel_nonexist_order",
                               "Order does not exist", "Limit order ${oid} does not exist", std::move(d),
                               "do_evaluate");
    if (it->second.seller != op.fee_paying_account.instance)
        throw ChainError::make(error_code::limit_order_cancel_owner_mismatch, "limit_order_cancel_owner_mismatch",
                               "Order owned by someone else", "Limit order ${oid} is owned by someone else",
                               std::move(d), "do_evaluate");
    if (fee.paid.asset_id.instance != 0) adjust_asset(fee.paid.asset_id.instance, -fee.core_paid, fee.paid.amount);
    cancel_limit_order(op.order.instance, false);
    adjust_balance(fee.payer, {-fee.paid.amount, fee.paid.asset_id});
}

// ---------------------------------------------------------------------------------------------
// Market (db_market.cpp)

void Chain::cancel_limit_order(std::uint64_t order_id, bool create_virtual_op) {
    const LimitOrder o = orders_.at(order_id);
    std::int64_t deferred_fee = o.deferred_fee;
    Asset deferred_paid_fee = o.deferred_paid_fee;
    if (create_virtual_op && deferred_fee > 0) {
        // Expired or culled orders pay the cancel fee out of the deferred creation fee.
        std::int64_t cancel_fee = required_core_fee(protocol::Operation{protocol::LimitOrderCancelOp{}});
        cancel_fee = std::min(cancel_fee, deferred_fee);
        if (cancel_fee > 0) {
            deferred_fee -= cancel_fee;
            if (deferred_paid_fee.amount != 0) {
                U128 f = U128(std::uint64_t(deferred_paid_fee.amount)) * std::uint64_t(cancel_fee);
                f = (f + std::uint64_t(o.deferred_fee) - 1) / std::uint64_t(o.deferred_fee);
                std::int64_t cancel_fee_amount = std::int64_t(f);
                adjust_asset(deferred_paid_fee.asset_id.instance, 0, cancel_fee_amount);
                deferred_paid_fee.amount -= cancel_fee_amount;
            }
        }
    }
    adjust_balance(o.seller, o.amount_for_sale());
    if (o.deferred_paid_fee.amount == 0) {
        adjust_balance(o.seller, {deferred_fee, AssetId{0}});
    } else {
        adjust_balance(o.seller, deferred_paid_fee);
        adjust_asset(deferred_paid_fee.asset_id.instance, deferred_fee, 0);
    }
    remove_order(order_id);
}

bool Chain::maybe_cull_small_order(std::uint64_t order_id) {
    if (orders_.at(order_id).amount_to_receive().amount == 0) {
        cancel_limit_order(order_id, true);
        return true;
    }
    return false;
}

bool Chain::fill_limit_order(std::uint64_t order_id, const Asset& pays, const Asset& receives, bool cull_if_small) {
    const LimitOrder o = orders_.at(order_id);
    // Devnet assets have no market fees: the seller receives everything.
    adjust_balance(o.seller, receives);
    // The deferred creation fee is now spent.
    if (o.deferred_paid_fee.amount > 0) adjust_asset(o.deferred_paid_fee.asset_id.instance, 0, o.deferred_paid_fee.amount);
    if (pays.amount == o.for_sale) {
        remove_order(order_id);
        return true;
    }
    modify_order(order_id, o.for_sale - pays.amount, 0, Asset{0, o.deferred_paid_fee.asset_id});
    if (cull_if_small) return maybe_cull_small_order(order_id);
    return false;
}

int Chain::match(std::uint64_t taker_id, std::uint64_t maker_id, const Price& match_price) {
    const Asset usd_for_sale = orders_.at(taker_id).amount_for_sale();
    const Asset core_for_sale = orders_.at(maker_id).amount_for_sale();
    Asset usd_receives, core_receives;
    bool cull_taker = false;
    if (usd_for_sale.amount <= mul(core_for_sale, match_price).amount) {
        usd_receives = mul(usd_for_sale, match_price);  // round down, in favour of the bigger order
        // Paying something for nothing: seen as filled, culled by the caller.
        if (usd_receives.amount == 0) return 1;
        core_receives = mul_round_up(usd_receives, match_price);
        cull_taker = true;
    } else {
        core_receives = mul(core_for_sale, match_price);
        usd_receives = mul_round_up(core_receives, match_price);
    }
    const Asset core_pays = usd_receives;
    const Asset usd_pays = core_receives;
    int result = 0;
    result |= fill_limit_order(taker_id, usd_pays, usd_receives, cull_taker) ? 1 : 0;
    result |= (fill_limit_order(maker_id, core_pays, core_receives, true) ? 1 : 0) << 1;
    return result;
}

bool Chain::apply_order(std::uint64_t order_id) {
    const LimitOrder& o = orders_.at(order_id);
    const std::uint64_t sell = o.sell_price.base.asset_id.instance;
    const std::uint64_t recv = o.sell_price.quote.asset_id.instance;
    // Only an order at the front of its side of the book can match.
    const Book& same = books_.at({sell, recv});
    if (same.begin()->second != order_id) return false;

    auto opposite = books_.find({recv, sell});
    if (opposite != books_.end()) {
        const Price max_price = invert(o.sell_price);
        Book& book = opposite->second;
        bool finished = false;
        auto it = book.begin();
        while (!finished && it != book.end() && !price_less(it->first, max_price)) {
            auto current = it++;
            std::uint64_t maker = current->second;
            Price maker_price = current->first;
            // match() returns 2 when only the maker was filled: keep going.
            finished = match(order_id, maker, maker_price) != 2;
        }
    }
    if (!orders_.count(order_id)) return true;
    return maybe_cull_small_order(order_id);
}

void Chain::clear_expired_orders() {
    while (!order_expirations_.empty() && order_expirations_.begin()->first <= head_time_.seconds)
        cancel_limit_order(order_expirations_.begin()->second, true);
}

// ---------------------------------------------------------------------------------------------
// Blocks

protocol::SignedTransaction Block::transaction(std::size_t i) const {
    return protocol::unpack_signed(
        std::span<const std::uint8_t>(tx_data.data() + tx_offsets[i], tx_offsets[i + 1] - tx_offsets[i]));
}

ProducedBlock Chain::produce_block(TimePointSec when) {
    ProducedBlock out;
    if (when < head_time_) when = head_time_;

    // Back to the head block's state, then re-apply every pending transaction in order.
    undo_to(0);
    std::vector<std::shared_ptr<const PendingTx>> pending;
    pending.swap(pending_);

    const std::uint32_t witness_instance = 1 + head_num_ % kWitnessCount;
    std::uint32_t witness_varint = witness_instance < 0x80 ? 1 : 2;
    // _generate_block: header without witness + 3 bytes for the transaction count + witness id.
    std::uint64_t total = (20 + 4 + 20 + 1 + 65) + 3 + witness_varint;
    std::vector<std::shared_ptr<const PendingTx>> left_over;
    for (auto& ptx : pending) {
        std::uint64_t new_total = total + ptx->block_size();
        if (new_total > genesis_.parameters.maximum_block_size) {
            ++out.postponed;
            left_over.push_back(std::move(ptx));
            continue;
        }
        std::size_t mark = undo_mark();
        try {
            apply_transaction(ptx);
        } catch (const ChainError&) {
            undo_to(mark);
            left_over.push_back(std::move(ptx));
            continue;
        }
        total = new_total;
        out.included.push_back(std::move(ptx));
    }

    Block b;
    b.num = head_num_ + 1;
    b.previous = head_id_;
    b.timestamp = when;
    b.witness = protocol::WitnessId{witness_instance};
    b.tx_offsets.reserve(out.included.size() + 1);
    std::vector<crypto::Sha256> digests;
    digests.reserve(out.included.size());
    std::uint64_t body = 0;
    for (const auto& ptx : out.included) {
        b.tx_offsets.push_back(std::uint32_t(b.tx_data.size()));
        b.tx_data.insert(b.tx_data.end(), ptx->packed.begin(), ptx->packed.end());
        b.op_count += ptx->tx.operations.size();
        // processed_transaction = signed bytes + operation_results (empty) → merkle_digest.
        std::uint8_t empty_results = 0;
        digests.push_back(crypto::sha256(crypto::ByteView(ptx->packed), crypto::ByteView(&empty_results, 1)));
        body += ptx->block_size();
    }
    b.tx_offsets.push_back(std::uint32_t(b.tx_data.size()));
    if (!digests.empty()) {
        // signed_block::calculate_merkle_root
        std::size_t n = digests.size();
        while (n > 1) {
            std::size_t k = 0;
            std::size_t i_max = n - (n & 1);
            for (std::size_t i = 0; i < i_max; i += 2)
                digests[k++] = crypto::sha256(crypto::ByteView(digests[i]), crypto::ByteView(digests[i + 1]));
            if (n & 1) digests[k++] = digests[i_max];
            n = k;
        }
        auto root = crypto::ripemd160(crypto::ByteView(digests[0]));
        std::copy(root.begin(), root.end(), b.merkle_root.data.begin());
    }
    protocol::Bytes header;
    protocol::RawWriter w(header);
    w.write(b.previous);
    w.write(b.timestamp);
    w.write(b.witness);
    w.write(b.merkle_root);
    w.write(protocol::FutureExtensions{});
    b.witness_signature = witness_key_.sign_compact(ctx_, crypto::sha256(crypto::ByteView(header)));
    w.write(b.witness_signature);
    auto h = crypto::sha224(crypto::ByteView(header));
    std::copy_n(h.begin(), 20, b.id.data.begin());
    b.id.data[0] = std::uint8_t(b.num >> 24);
    b.id.data[1] = std::uint8_t(b.num >> 16);
    b.id.data[2] = std::uint8_t(b.num >> 8);
    b.id.data[3] = std::uint8_t(b.num);
    std::uint64_t count_varint = 1;
    for (std::uint64_t v = out.included.size(); v >= 0x80; v >>= 7) ++count_varint;
    b.size = std::uint32_t(header.size() + count_varint + body);

    // Apply the block: the included transactions are already applied (same state, same head time).
    for (std::size_t i = 0; i < out.included.size(); ++i) {
        auto& k = known_.at(out.included[i]->id);
        k.where = TxLocation{b.num, std::uint32_t(i), nullptr};
        known_expirations_.push({k.expiration.seconds, out.included[i]->id});
    }
    head_num_ = b.num;
    head_id_ = b.id;
    head_time_ = when;
    block_summaries_[b.num & 0xffff] = b.id;
    clear_expired_transactions();
    clear_expired_orders();
    undo_.clear();  // the block is final
    stats_.included += out.included.size();
    ++stats_.blocks;
    store_block(std::move(b));
    out.block = &blocks_.back();

    // pending_transactions_restorer: push the rest again; failures are dropped.
    for (auto& ptx : left_over) {
        if (known_.count(ptx->id)) continue;
        std::size_t mark = undo_mark();
        try {
            apply_transaction(ptx);
            pending_.push_back(std::move(ptx));
        } catch (const ChainError&) {
            undo_to(mark);
            ++out.dropped;
        }
    }
    stats_.dropped += out.dropped;
    return out;
}

void Chain::clear_expired_transactions() {
    // Remembered until head_block_time() > expiration.
    while (!known_expirations_.empty() && known_expirations_.top().first < head_time_.seconds) {
        auto it = known_.find(known_expirations_.top().second);
        if (it != known_.end() && it->second.where.block_num != 0) known_.erase(it);
        known_expirations_.pop();
    }
}

void Chain::store_block(Block block) {
    block_bytes_ += block.tx_data.size() + block.tx_offsets.size() * 4 + sizeof(Block);
    blocks_.push_back(std::move(block));
    while (blocks_.size() > 1 && block_bytes_ > config_.block_history_bytes) {
        const Block& old = blocks_.front();
        block_bytes_ -= old.tx_data.size() + old.tx_offsets.size() * 4 + sizeof(Block);
        blocks_.pop_front();
    }
}

const Block* Chain::block(std::uint32_t num) const {
    if (blocks_.empty() || num < blocks_.front().num || num > blocks_.back().num) return nullptr;
    return &blocks_[num - blocks_.front().num];
}

bool Chain::is_known_transaction(const protocol::TransactionId& id) const { return known_.count(id) != 0; }

std::optional<protocol::SignedTransaction> Chain::recent_transaction(const protocol::TransactionId& id) const {
    auto it = known_.find(id);
    if (it == known_.end()) return std::nullopt;
    const auto& where = it->second.where;
    if (where.pending) return where.pending->tx;
    const Block* b = block(where.block_num);
    if (!b) return std::nullopt;
    return b->transaction(where.trx_num);
}

}  // namespace bts::devnet
