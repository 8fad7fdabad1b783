// Graphene protocol value types: object ids, assets, prices, times, memos, authorities, extensions.
//
// These are plain value types. Their binary (fc::raw) and JSON forms are produced by the generic
// visitors in raw.hpp and json.cpp, which walk each struct's `fields()` in declaration order —
// the same order bitshares-core's FC_REFLECT uses, which is the wire order.
#pragma once

#include "common/crypto/keys.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bts::protocol {

using crypto::PublicKey;
using crypto::Signature;
using Bytes = std::vector<std::uint8_t>;

// Thrown by decoders (binary and JSON) and by validate(); `path` names the offending field,
// e.g. "operations[0][1].amount.asset_id". Used at start-up, in tools, and caught at request
// boundaries in servers — never on the load generator's hot path.
class ProtocolError : public std::runtime_error {
public:
    ProtocolError(std::string path, const std::string& what)
        : std::runtime_error(path.empty() ? what : path + ": " + what), path_(std::move(path)),
          reason_(what) {}
    const std::string& path() const { return path_; }
    const std::string& reason() const { return reason_; }

private:
    std::string path_;
    std::string reason_;
};

// Seconds since 1970 UTC (fc::time_point_sec). JSON "2016-04-06T08:29:27".
struct TimePointSec {
    std::uint32_t seconds = 0;
    static constexpr std::uint32_t maximum() { return 0xffffffffu; }
    friend auto operator<=>(const TimePointSec&, const TimePointSec&) = default;
};
[[nodiscard]] std::string to_iso_string(TimePointSec t);
[[nodiscard]] std::optional<TimePointSec> from_iso_string(std::string_view text);

// A typed object id "S.T.N": only the instance is on the wire (as a varint).
template <std::uint8_t Space, std::uint8_t Type>
struct ObjectIdT {
    static constexpr std::uint8_t space = Space;
    static constexpr std::uint8_t type = Type;
    std::uint64_t instance = 0;
    friend auto operator<=>(const ObjectIdT&, const ObjectIdT&) = default;
};
using AccountId = ObjectIdT<1, 2>;
using AssetId = ObjectIdT<1, 3>;
using WitnessId = ObjectIdT<1, 6>;
using LimitOrderId = ObjectIdT<1, 7>;
using ProposalId = ObjectIdT<1, 10>;
using VestingBalanceId = ObjectIdT<1, 13>;
using BalanceId = ObjectIdT<1, 15>;
using HtlcId = ObjectIdT<1, 16>;

// Generic object_id_type: uint64 LE of space<<56 | type<<48 | instance.
struct ObjectId {
    std::uint8_t space = 0;
    std::uint8_t type = 0;
    std::uint64_t instance = 0;
    std::uint64_t packed() const {
        return (std::uint64_t(space) << 56) | (std::uint64_t(type) << 48) | (instance & 0xffffffffffffULL);
    }
    friend auto operator<=>(const ObjectId&, const ObjectId&) = default;
};
[[nodiscard]] std::string to_string(const ObjectId& id);
// "S.T.N" → id; nullopt if malformed.
[[nodiscard]] std::optional<ObjectId> parse_object_id(std::string_view text);
template <std::uint8_t S, std::uint8_t T>
std::string to_string(const ObjectIdT<S, T>& id) {
    return to_string(ObjectId{S, T, id.instance});
}

struct Asset {
    std::int64_t amount = 0;
    AssetId asset_id;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("amount", s.amount);
        v("asset_id", s.asset_id);
    }
    friend bool operator==(const Asset&, const Asset&) = default;
};

struct Price {
    Asset base;
    Asset quote;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("base", s.base);
        v("quote", s.quote);
    }
    friend bool operator==(const Price&, const Price&) = default;
};

struct PriceFeed {
    Price settlement_price;
    std::uint16_t maintenance_collateral_ratio = 1750;
    std::uint16_t maximum_short_squeeze_ratio = 1500;
    Price core_exchange_rate;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("settlement_price", s.settlement_price);
        v("maintenance_collateral_ratio", s.maintenance_collateral_ratio);
        v("maximum_short_squeeze_ratio", s.maximum_short_squeeze_ratio);
        v("core_exchange_rate", s.core_exchange_rate);
    }
    friend bool operator==(const PriceFeed&, const PriceFeed&) = default;
};

// vote_id_type: uint32 = type | instance << 8; JSON "type:instance".
struct VoteId {
    std::uint32_t content = 0;
    friend auto operator<=>(const VoteId&, const VoteId&) = default;
};

// Raw bytes serialized as varint(len) + bytes, JSON as hex (vector<char>).
struct Blob {
    Bytes data;
    friend bool operator==(const Blob&, const Blob&) = default;
};

// Fixed-size hashes (ripemd160, sha256, ...) serialized raw, JSON as hex.
template <std::size_t N>
struct FixedBytes {
    std::array<std::uint8_t, N> data{};
    friend auto operator<=>(const FixedBytes&, const FixedBytes&) = default;
};
using BlockId = FixedBytes<20>;
using TransactionId = FixedBytes<20>;

// Graphene address (ripemd160(sha512(pub33))). Ordered by bytes.
struct Address {
    crypto::AddressBytes bytes{};
    friend auto operator<=>(const Address&, const Address&) = default;
};

// Public keys ordered as fc orders them (by address), for sorted sets/maps.
struct KeyAddressLess {
    bool operator()(const PublicKey& a, const PublicKey& b) const { return crypto::address_less(a, b); }
};

// flat_set<T> / flat_map<K,V>: kept sorted and unique (fc re-sorts on every parse, and the
// signature covers the sorted bytes). Compare is the key order.
template <class T, class Compare = std::less<T>>
struct FlatSet {
    std::vector<T> items;
    void normalize();  // sort + unique
    friend bool operator==(const FlatSet& a, const FlatSet& b) { return a.items == b.items; }
};
template <class K, class V, class Compare = std::less<K>>
struct FlatMap {
    std::vector<std::pair<K, V>> items;
    void normalize();  // sort by key, first wins on duplicates
    friend bool operator==(const FlatMap& a, const FlatMap& b) { return a.items == b.items; }
};

// future_extensions: always empty on the wire ("00"), JSON [].
struct FutureExtensions {
    friend bool operator==(const FutureExtensions&, const FutureExtensions&) = default;
};

// void_t (present-but-empty optional extension fields such as null_ext).
struct VoidT {
    friend bool operator==(const VoidT&, const VoidT&) = default;
};

// extension<T>: T's fields are all optional; the wire has varint(#present) then
// (varint(field index), value) for each present field in declaration order. JSON {name: value}.
template <class T>
struct Extension {
    T value;
    friend bool operator==(const Extension&, const Extension&) = default;
};

struct Memo {
    PublicKey from;
    PublicKey to;
    std::uint64_t nonce = 0;
    Blob message;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("from", s.from);
        v("to", s.to);
        v("nonce", s.nonce);
        v("message", s.message);
    }
    friend bool operator==(const Memo&, const Memo&) = default;
};

struct Authority {
    std::uint32_t weight_threshold = 0;
    FlatMap<AccountId, std::uint16_t> account_auths;
    FlatMap<PublicKey, std::uint16_t, KeyAddressLess> key_auths;
    FlatMap<Address, std::uint16_t> address_auths;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("weight_threshold", s.weight_threshold);
        v("account_auths", s.account_auths);
        v("key_auths", s.key_auths);
        v("address_auths", s.address_auths);
    }
    friend bool operator==(const Authority&, const Authority&) = default;
};

struct AccountOptions {
    PublicKey memo_key;
    AccountId voting_account;
    std::uint16_t num_witness = 0;
    std::uint16_t num_committee = 0;
    FlatSet<VoteId> votes;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("memo_key", s.memo_key);
        v("voting_account", s.voting_account);
        v("num_witness", s.num_witness);
        v("num_committee", s.num_committee);
        v("votes", s.votes);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AccountOptions&, const AccountOptions&) = default;
};

// special_authority = static_variant<no_special_authority, top_holders_special_authority>.
struct SpecialAuthority {
    std::uint32_t tag = 0;  // 0 = none, 1 = top holders
    AssetId asset;
    std::uint8_t num_top_holders = 1;
    friend bool operator==(const SpecialAuthority&, const SpecialAuthority&) = default;
};

struct BuybackOptions {
    AssetId asset_to_buy;
    AccountId asset_to_buy_issuer;
    FlatSet<AssetId> markets;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("asset_to_buy", s.asset_to_buy);
        v("asset_to_buy_issuer", s.asset_to_buy_issuer);
        v("markets", s.markets);
    }
    friend bool operator==(const BuybackOptions&, const BuybackOptions&) = default;
};

struct AssetOptionsExt {
    std::optional<std::uint16_t> reward_percent;
    std::optional<FlatSet<AccountId>> whitelist_market_fee_sharing;
    std::optional<std::uint16_t> taker_fee_percent;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("reward_percent", s.reward_percent);
        v("whitelist_market_fee_sharing", s.whitelist_market_fee_sharing);
        v("taker_fee_percent", s.taker_fee_percent);
    }
    friend bool operator==(const AssetOptionsExt&, const AssetOptionsExt&) = default;
};

struct AssetOptions {
    std::int64_t max_supply = 1000000000000000LL;
    std::uint16_t market_fee_percent = 0;
    std::int64_t max_market_fee = 1000000000000000LL;
    std::uint16_t issuer_permissions = 0;
    std::uint16_t flags = 0;
    Price core_exchange_rate;
    FlatSet<AccountId> whitelist_authorities;
    FlatSet<AccountId> blacklist_authorities;
    FlatSet<AssetId> whitelist_markets;
    FlatSet<AssetId> blacklist_markets;
    std::string description;
    Extension<AssetOptionsExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("max_supply", s.max_supply);
        v("market_fee_percent", s.market_fee_percent);
        v("max_market_fee", s.max_market_fee);
        v("issuer_permissions", s.issuer_permissions);
        v("flags", s.flags);
        v("core_exchange_rate", s.core_exchange_rate);
        v("whitelist_authorities", s.whitelist_authorities);
        v("blacklist_authorities", s.blacklist_authorities);
        v("whitelist_markets", s.whitelist_markets);
        v("blacklist_markets", s.blacklist_markets);
        v("description", s.description);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetOptions&, const AssetOptions&) = default;
};

struct BitassetOptionsExt {
    std::optional<std::uint16_t> initial_collateral_ratio;
    std::optional<std::uint16_t> maintenance_collateral_ratio;
    std::optional<std::uint16_t> maximum_short_squeeze_ratio;
    std::optional<std::uint16_t> margin_call_fee_ratio;
    std::optional<std::uint16_t> force_settle_fee_percent;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("initial_collateral_ratio", s.initial_collateral_ratio);
        v("maintenance_collateral_ratio", s.maintenance_collateral_ratio);
        v("maximum_short_squeeze_ratio", s.maximum_short_squeeze_ratio);
        v("margin_call_fee_ratio", s.margin_call_fee_ratio);
        v("force_settle_fee_percent", s.force_settle_fee_percent);
    }
    friend bool operator==(const BitassetOptionsExt&, const BitassetOptionsExt&) = default;
};

struct BitassetOptions {
    std::uint32_t feed_lifetime_sec = 86400;
    std::uint8_t minimum_feeds = 1;
    std::uint32_t force_settlement_delay_sec = 86400;
    std::uint16_t force_settlement_offset_percent = 0;
    std::uint16_t maximum_force_settlement_volume = 2000;
    AssetId short_backing_asset;
    Extension<BitassetOptionsExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("feed_lifetime_sec", s.feed_lifetime_sec);
        v("minimum_feeds", s.minimum_feeds);
        v("force_settlement_delay_sec", s.force_settlement_delay_sec);
        v("force_settlement_offset_percent", s.force_settlement_offset_percent);
        v("maximum_force_settlement_volume", s.maximum_force_settlement_volume);
        v("short_backing_asset", s.short_backing_asset);
        v("extensions", s.extensions);
    }
    friend bool operator==(const BitassetOptions&, const BitassetOptions&) = default;
};

// htlc preimage hash: static_variant<ripemd160, sha1, sha256, hash160>; JSON [tag, "hex"].
struct HtlcHash {
    std::uint32_t tag = 0;
    Bytes digest;  // 20, 20, 32 or 20 bytes depending on tag
    friend bool operator==(const HtlcHash&, const HtlcHash&) = default;
};

// assert predicates: static_variant<account_name_eq_lit, asset_symbol_eq_lit, block_id>.
struct Predicate {
    std::uint32_t tag = 0;
    AccountId account_id;  // tag 0
    AssetId asset_id;      // tag 1
    std::string text;      // tag 0: name, tag 1: symbol
    BlockId block_id;      // tag 2
    friend bool operator==(const Predicate&, const Predicate&) = default;
};

template <class T, class Compare>
void FlatSet<T, Compare>::normalize() {
    Compare less;
    std::stable_sort(items.begin(), items.end(), less);
    items.erase(std::unique(items.begin(), items.end(),
                            [&less](const T& a, const T& b) { return !less(a, b) && !less(b, a); }),
                items.end());
}

template <class K, class V, class Compare>
void FlatMap<K, V, Compare>::normalize() {
    Compare less;
    auto by_key = [&less](const auto& a, const auto& b) { return less(a.first, b.first); };
    std::stable_sort(items.begin(), items.end(), by_key);
    items.erase(std::unique(items.begin(), items.end(),
                            [&less](const auto& a, const auto& b) {
                                return !less(a.first, b.first) && !less(b.first, a.first);
                            }),
                items.end());
}

}  // namespace bts::protocol
