// Non-template parts of the protocol library: times, ids, binary reader, operation table,
// validate(), transaction id/digest/TaPoS, signing and recovery.
#include "common/protocol/raw.hpp"
#include "common/protocol/transaction.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace bts::protocol {

// ---------------------------------------------------------------------------------------------
// Times and ids

std::string to_iso_string(TimePointSec t) {
    std::time_t secs = static_cast<std::time_t>(t.seconds);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

namespace {
bool parse_fixed_int(std::string_view s, int& out) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc{};
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
}  // namespace

std::optional<TimePointSec> from_iso_string(std::string_view s) {
    // "YYYY-MM-DDTHH:MM:SS", optionally followed by "Z" or a fraction ".fff" (fc drops both).
    if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    std::string_view rest = s.substr(19);
    if (!rest.empty() && rest.front() == '.') {
        std::size_t i = 1;
        while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
        rest = rest.substr(i);
    }
    if (rest == "Z") rest = {};
    if (!rest.empty()) return std::nullopt;
    int y, mo, d, h, mi, se;
    if (!parse_fixed_int(s.substr(0, 4), y) || !parse_fixed_int(s.substr(5, 2), mo) ||
        !parse_fixed_int(s.substr(8, 2), d) || !parse_fixed_int(s.substr(11, 2), h) ||
        !parse_fixed_int(s.substr(14, 2), mi) || !parse_fixed_int(s.substr(17, 2), se))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    std::int64_t t = days_from_civil(y, unsigned(mo), unsigned(d)) * 86400 + h * 3600 + mi * 60 + se;
    if (t < 0 || t > 0xffffffffLL) return std::nullopt;
    return TimePointSec{static_cast<std::uint32_t>(t)};
}

std::string to_string(const ObjectId& id) {
    return std::to_string(id.space) + "." + std::to_string(id.type) + "." + std::to_string(id.instance);
}

std::optional<ObjectId> parse_object_id(std::string_view text) {
    std::uint64_t parts[3];
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        std::size_t end = i < 2 ? text.find('.', pos) : text.size();
        if (end == std::string_view::npos || end == pos) return std::nullopt;
        auto field = text.substr(pos, end - pos);
        for (char c : field)
            if (c < '0' || c > '9') return std::nullopt;
        auto r = std::from_chars(field.data(), field.data() + field.size(), parts[i]);
        if (r.ec != std::errc{}) return std::nullopt;
        pos = end + 1;
    }
    if (parts[0] > 255 || parts[1] > 255 || parts[2] > 0xffffffffffffULL) return std::nullopt;
    return ObjectId{std::uint8_t(parts[0]), std::uint8_t(parts[1]), parts[2]};
}

// ---------------------------------------------------------------------------------------------
// Operation table

namespace {
template <std::size_t... I>
constexpr auto make_tag_table(std::index_sequence<I...>) {
    std::array<int, 80> table{};
    for (auto& t : table) t = -1;
    ((table[std::variant_alternative_t<I, Operation>::tag] = int(I)), ...);
    return table;
}
constexpr auto kTagToIndex = make_tag_table(std::make_index_sequence<std::variant_size_v<Operation>>{});

template <std::size_t... I>
void emplace_by_index(std::size_t index, Operation& out, std::index_sequence<I...>) {
    ((I == index ? (out.template emplace<I>(), true) : false) || ...);
}

constexpr std::string_view kOpNames[] = {
    "transfer", "limit_order_create", "limit_order_cancel", "call_order_update", "fill_order",
    "account_create", "account_update", "account_whitelist", "account_upgrade", "account_transfer",
    "asset_create", "asset_update", "asset_update_bitasset", "asset_update_feed_producers",
    "asset_issue", "asset_reserve", "asset_fund_fee_pool", "asset_settle", "asset_global_settle",
    "asset_publish_feed", "witness_create", "witness_update", "proposal_create", "proposal_update",
    "proposal_delete", "withdraw_permission_create", "withdraw_permission_update",
    "withdraw_permission_claim", "withdraw_permission_delete", "committee_member_create",
    "committee_member_update", "committee_member_update_global_parameters",
    "vesting_balance_create", "vesting_balance_withdraw", "worker_create", "custom", "assert",
    "balance_claim", "override_transfer", "transfer_to_blind", "blind_transfer",
    "transfer_from_blind", "asset_settle_cancel", "asset_claim_fees", "fba_distribute",
    "bid_collateral", "execute_bid", "asset_claim_pool", "asset_update_issuer", "htlc_create",
    "htlc_redeem", "htlc_redeemed", "htlc_extend", "htlc_refund", "custom_authority_create",
    "custom_authority_update", "custom_authority_delete", "ticket_create", "ticket_update",
    "liquidity_pool_create", "liquidity_pool_delete", "liquidity_pool_deposit",
    "liquidity_pool_withdraw", "liquidity_pool_exchange", "samet_fund_create", "samet_fund_delete",
    "samet_fund_update", "samet_fund_borrow", "samet_fund_repay", "credit_offer_create",
    "credit_offer_delete", "credit_offer_update", "credit_offer_accept", "credit_deal_repay",
    "credit_deal_expired", "liquidity_pool_update", "credit_deal_update", "limit_order_update"};
}  // namespace

int op_index_for_tag(std::uint32_t tag) {
    return tag < kTagToIndex.size() ? kTagToIndex[tag] : -1;
}

std::string_view op_name_for_tag(std::uint32_t tag) {
    return tag < std::size(kOpNames) ? kOpNames[tag] : std::string_view("unknown");
}

bool make_operation(std::uint32_t tag, Operation& out) {
    int index = op_index_for_tag(tag);
    if (index < 0) return false;
    emplace_by_index(std::size_t(index), out, std::make_index_sequence<std::variant_size_v<Operation>>{});
    return true;
}

// ---------------------------------------------------------------------------------------------
// validate(): the chain-state-free checks of bitshares-core's operation validate() methods.

namespace {
using Check = std::optional<std::string>;
#define BTS_CHECK(cond)                        \
    do {                                       \
        if (!(cond)) return std::string(#cond); \
    } while (0)

bool is_valid_symbol(const std::string& symbol) {
    // asset_create_operation: 3..16 chars, A-Z, 0-9 and at most one '.', starts with a letter,
    // ends with a letter or digit.
    if (symbol.size() < 3 || symbol.size() > 16) return false;
    if (symbol.front() < 'A' || symbol.front() > 'Z') return false;
    char last = symbol.back();
    if (!((last >= 'A' && last <= 'Z') || (last >= '0' && last <= '9'))) return false;
    int dots = 0;
    for (char c : symbol) {
        if (c == '.') {
            if (++dots > 1) return false;
        } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

bool is_valid_account_name(const std::string& name) {
    // protocol/account.cpp is_valid_name: 1..63 chars, dot-separated labels, each starting with a
    // letter, then letters/digits/dashes, not ending with a dash.
    if (name.empty() || name.size() > 63) return false;
    std::size_t begin = 0;
    while (true) {
        std::size_t end = name.find('.', begin);
        if (end == std::string::npos) end = name.size();
        if (end - begin < 1) return false;
        if (name[begin] < 'a' || name[begin] > 'z') return false;
        if (name[end - 1] == '-') return false;
        for (std::size_t i = begin; i < end; ++i) {
            char c = name[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
        }
        if (end == name.size()) break;
        begin = end + 1;
    }
    return true;
}

Check validate_authority(const Authority& a) {
    // authority::is_impossible(): the sum of all weights must reach the threshold.
    std::uint64_t total = 0;
    for (auto& [k, w] : a.account_auths.items) total += w;
    for (auto& [k, w] : a.key_auths.items) total += w;
    for (auto& [k, w] : a.address_auths.items) total += w;
    BTS_CHECK(total >= a.weight_threshold);
    return std::nullopt;
}

Check validate_asset_options(const AssetOptions& o) {
    BTS_CHECK(o.max_supply > 0);
    BTS_CHECK(o.max_supply <= 1000000000000000LL);
    BTS_CHECK(o.market_fee_percent <= 10000);
    BTS_CHECK(o.max_market_fee >= 0 && o.max_market_fee <= 1000000000000000LL);
    BTS_CHECK(o.core_exchange_rate.base.asset_id.instance == 0 || o.core_exchange_rate.quote.asset_id.instance == 0);
    return std::nullopt;
}

struct Validator {
    Check operator()(const TransferOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.from != op.to);
        BTS_CHECK(op.amount.amount > 0);
        return std::nullopt;
    }
    Check operator()(const OverrideTransferOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.from != op.to);
        BTS_CHECK(op.amount.amount > 0);
        BTS_CHECK(op.issuer != op.from);
        return std::nullopt;
    }
    Check operator()(const LimitOrderCreateOp& op) const {
        BTS_CHECK(op.amount_to_sell.asset_id != op.min_to_receive.asset_id);
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.amount_to_sell.amount > 0);
        BTS_CHECK(op.min_to_receive.amount > 0);
        return std::nullopt;
    }
    Check operator()(const LimitOrderCancelOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const CallOrderUpdateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.delta_collateral.asset_id != op.delta_debt.asset_id);
        BTS_CHECK(op.delta_collateral.amount != 0 || op.delta_debt.amount != 0);
        return std::nullopt;
    }
    Check operator()(const AccountCreateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(is_valid_account_name(op.name));
        BTS_CHECK(op.referrer_percent <= 10000);
        BTS_CHECK(op.owner.weight_threshold > 0 || !op.owner.account_auths.items.empty() ||
                  !op.owner.key_auths.items.empty());
        if (auto e = validate_authority(op.owner)) return "!owner.is_impossible()";
        if (auto e = validate_authority(op.active)) return "!active.is_impossible()";
        BTS_CHECK(op.owner.address_auths.items.empty());
        BTS_CHECK(op.active.address_auths.items.empty());
        return std::nullopt;
    }
    Check operator()(const AccountUpdateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.account.instance != 0);  // GRAPHENE_TEMP_ACCOUNT
        bool has_action = op.owner || op.active || op.new_options ||
                          op.extensions.value.owner_special_authority ||
                          op.extensions.value.active_special_authority;
        BTS_CHECK(has_action);
        if (op.owner && validate_authority(*op.owner)) return "!owner->is_impossible()";
        if (op.active && validate_authority(*op.active)) return "!active->is_impossible()";
        return std::nullopt;
    }
    Check operator()(const AccountWhitelistOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.new_listing < 4);  // no_listing | white | black | white_and_black
        return std::nullopt;
    }
    Check operator()(const AccountUpgradeOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const AssetCreateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(is_valid_symbol(op.symbol));
        BTS_CHECK(op.precision <= 12);
        if (auto e = validate_asset_options(op.common_options)) return e;
        BTS_CHECK(!op.is_prediction_market || op.bitasset_opts.has_value());
        return std::nullopt;
    }
    Check operator()(const AssetUpdateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        if (op.new_issuer) BTS_CHECK(op.issuer != *op.new_issuer);
        return validate_asset_options(op.new_options);
    }
    Check operator()(const AssetUpdateBitassetOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.new_options.minimum_feeds > 0);
        BTS_CHECK(op.new_options.force_settlement_offset_percent <= 10000);
        BTS_CHECK(op.new_options.maximum_force_settlement_volume <= 10000);
        return std::nullopt;
    }
    Check operator()(const AssetUpdateFeedProducersOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const AssetIssueOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.asset_to_issue.asset_id.instance != 0);
        BTS_CHECK(op.asset_to_issue.amount > 0);
        return std::nullopt;
    }
    Check operator()(const AssetReserveOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.amount_to_reserve.amount > 0);
        return std::nullopt;
    }
    Check operator()(const AssetFundFeePoolOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.fee.asset_id.instance == 0);
        BTS_CHECK(op.amount > 0);
        return std::nullopt;
    }
    Check operator()(const AssetSettleOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.amount.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const AssetGlobalSettleOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.asset_to_settle == op.settle_price.base.asset_id);
        return std::nullopt;
    }
    Check operator()(const AssetPublishFeedOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const WitnessUpdateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        if (op.new_url) BTS_CHECK(op.new_url->size() < 127);  // GRAPHENE_MAX_URL_LENGTH
        return std::nullopt;
    }
    Check operator()(const ProposalCreateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(!op.proposed_ops.empty());
        for (const auto& w : op.proposed_ops)
            if (auto e = std::visit(*this, w.op)) return e;
        return std::nullopt;
    }
    Check operator()(const ProposalUpdateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(!(op.active_approvals_to_add.items.empty() && op.active_approvals_to_remove.items.empty() &&
                    op.owner_approvals_to_add.items.empty() && op.owner_approvals_to_remove.items.empty() &&
                    op.key_approvals_to_add.items.empty() && op.key_approvals_to_remove.items.empty()));
        return std::nullopt;
    }
    Check operator()(const WithdrawPermissionCreateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.withdraw_from_account != op.authorized_account);
        BTS_CHECK(op.withdrawal_limit.amount > 0);
        BTS_CHECK(op.withdrawal_period_sec > 0);
        BTS_CHECK(op.periods_until_expiration > 0);
        return std::nullopt;
    }
    Check operator()(const CommitteeMemberCreateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.url.size() < 127);
        return std::nullopt;
    }
    Check operator()(const VestingBalanceWithdrawOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.amount.amount > 0);
        return std::nullopt;
    }
    Check operator()(const CustomOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const AssertOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const BalanceClaimOp& op) const {
        BTS_CHECK(op.fee == Asset{});
        BTS_CHECK(op.balance_owner_key != PublicKey{});
        return std::nullopt;
    }
    Check operator()(const AssetClaimFeesOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.amount_to_claim.amount > 0);
        return std::nullopt;
    }
    Check operator()(const BidCollateralOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.debt_covered.amount == 0 || (op.debt_covered.amount > 0 && op.additional_collateral.amount > 0));
        return std::nullopt;
    }
    Check operator()(const AssetClaimPoolOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.fee.asset_id != op.asset_id);
        BTS_CHECK(op.amount_to_claim.amount > 0);
        BTS_CHECK(op.amount_to_claim.asset_id.instance == 0);
        return std::nullopt;
    }
    Check operator()(const AssetUpdateIssuerOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.issuer != op.new_issuer);
        return std::nullopt;
    }
    Check operator()(const HtlcCreateOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        BTS_CHECK(op.amount.amount > 0);
        return std::nullopt;
    }
    Check operator()(const HtlcRedeemOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
    Check operator()(const HtlcExtendOp& op) const {
        BTS_CHECK(op.fee.amount >= 0);
        return std::nullopt;
    }
};
#undef BTS_CHECK
}  // namespace

std::optional<std::string> validate(const Operation& op) {
    auto failed = std::visit(Validator{}, op);
    if (failed) {
        // The checks are written against `op.`; bitshares-core's messages name bare fields.
        for (std::size_t at; (at = failed->find("op.")) != std::string::npos;) failed->erase(at, 3);
    }
    return failed;
}

// ---------------------------------------------------------------------------------------------
// RawReader

std::string RawReader::path() const {
    std::string out;
    for (const auto& s : path_) {
        if (s.index >= 0) {
            out += "[" + std::to_string(s.index) + "]";
        } else {
            if (!out.empty()) out += ".";
            out += s.name;
        }
    }
    return out;
}

void RawReader::fail(const std::string& what) const {
    throw ProtocolError(path(), what);
}

std::uint64_t RawReader::varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p_ == end_) fail("unexpected end of data in varint at byte " + std::to_string(offset()));
        std::uint8_t b = *p_++;
        v |= std::uint64_t(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
}

std::size_t RawReader::length(std::size_t min_element_size) {
    std::uint64_t n = varint();
    if (n > remaining() / (min_element_size ? min_element_size : 1))
        fail("length " + std::to_string(n) + " exceeds the " + std::to_string(remaining()) + " bytes left");
    return std::size_t(n);
}

void RawReader::read(bool& v) {
    std::uint8_t b;
    bytes(&b, 1);
    if (b > 1) fail("bool byte must be 00 or 01, got " + std::to_string(b));
    v = b == 1;
}

void RawReader::read(std::string& s) {
    std::size_t n = length();
    s.resize(n);
    bytes(s.data(), n);
}

void RawReader::read(Blob& b) {
    std::size_t n = length();
    b.data.resize(n);
    bytes(b.data.data(), n);
}

void RawReader::read(ObjectId& id) {
    auto v = fixed<std::uint64_t>();
    id.space = std::uint8_t(v >> 56);
    id.type = std::uint8_t(v >> 48);
    id.instance = v & 0xffffffffffffULL;
}

void RawReader::read(PublicKey& k) {
    crypto::PublicKeyBytes b;
    bytes(b.data(), b.size());
    if (b[0] != 0x02 && b[0] != 0x03) fail("public key must start with 02 or 03");
    k = PublicKey(b);
}

void RawReader::read(FutureExtensions&) {
    if (varint() != 0) fail("future_extensions must be empty");
}

void RawReader::read(SpecialAuthority& sa) {
    sa = SpecialAuthority{};
    sa.tag = std::uint32_t(varint());
    if (sa.tag == 1) {
        (*this)("asset", sa.asset);
        (*this)("num_top_holders", sa.num_top_holders);
    } else if (sa.tag != 0) {
        fail("unknown special_authority type " + std::to_string(sa.tag));
    }
}

void RawReader::read(HtlcHash& h) {
    h.tag = std::uint32_t(varint());
    std::size_t n = h.tag == 2 ? 32 : 20;
    if (h.tag > 3) fail("unknown htlc hash type " + std::to_string(h.tag));
    h.digest.resize(n);
    bytes(h.digest.data(), n);
}

void RawReader::read(Predicate& p) {
    p = Predicate{};
    p.tag = std::uint32_t(varint());
    switch (p.tag) {
        case 0: (*this)("account_id", p.account_id); (*this)("name", p.text); break;
        case 1: (*this)("asset_id", p.asset_id); (*this)("symbol", p.text); break;
        case 2: (*this)("id", p.block_id); break;
        default: fail("unknown predicate type " + std::to_string(p.tag));
    }
}

void RawReader::read(Operation& op) {
    std::uint64_t tag = varint();
    if (tag > 0xffff || !make_operation(std::uint32_t(tag), op))
        fail("operation " + std::to_string(tag) + " (" + std::string(op_name_for_tag(std::uint32_t(tag))) +
             ") is not supported");
    path_.push_back(Segment{{}, 1});
    std::visit([this](auto& o) { read(o); }, op);
    path_.pop_back();
}

// ---------------------------------------------------------------------------------------------
// Transactions

Bytes pack_unsigned(const Transaction& tx) {
    Bytes out;
    out.reserve(128);
    RawWriter w(out);
    w.write(tx);
    return out;
}

Bytes pack_signed(const SignedTransaction& tx) {
    Bytes out;
    out.reserve(128 + 66 * tx.signatures.size());
    RawWriter w(out);
    w.write(tx);
    return out;
}

SignedTransaction unpack_signed(std::span<const std::uint8_t> bytes) {
    SignedTransaction tx;
    RawReader r(bytes.data(), bytes.size());
    Transaction::fields(static_cast<Transaction&>(tx), r);
    if (!r.at_end()) r("signatures", tx.signatures);
    if (!r.at_end()) r.fail(std::to_string(r.remaining()) + " trailing bytes after the transaction");
    return tx;
}

Transaction unpack_unsigned(std::span<const std::uint8_t> bytes) {
    Transaction tx;
    unpack(bytes.data(), bytes.size(), tx);
    return tx;
}

TransactionId transaction_id(std::span<const std::uint8_t> unsigned_bytes) {
    auto h = crypto::sha256(crypto::ByteView(unsigned_bytes.data(), unsigned_bytes.size()));
    TransactionId id;
    std::copy_n(h.begin(), id.data.size(), id.data.begin());
    return id;
}

TransactionId transaction_id(const Transaction& tx) {
    return transaction_id(pack_unsigned(tx));
}

crypto::Sha256 signing_digest(const ChainId& chain_id, std::span<const std::uint8_t> unsigned_bytes) {
    return crypto::sha256(crypto::ByteView(chain_id.data(), chain_id.size()),
                          crypto::ByteView(unsigned_bytes.data(), unsigned_bytes.size()));
}

crypto::Sha256 signing_digest(const ChainId& chain_id, const Transaction& tx) {
    return signing_digest(chain_id, pack_unsigned(tx));
}

Tapos tapos_from_block_id(const BlockId& id) {
    Tapos t;
    t.ref_block_num = std::uint16_t(block_num_from_id(id) & 0xffff);
    t.ref_block_prefix = std::uint32_t(id.data[4]) | (std::uint32_t(id.data[5]) << 8) |
                         (std::uint32_t(id.data[6]) << 16) | (std::uint32_t(id.data[7]) << 24);
    return t;
}

std::uint32_t block_num_from_id(const BlockId& id) {
    return (std::uint32_t(id.data[0]) << 24) | (std::uint32_t(id.data[1]) << 16) |
           (std::uint32_t(id.data[2]) << 8) | std::uint32_t(id.data[3]);
}

crypto::Sha256 sign(SignedTransaction& tx, const ChainId& chain_id,
                    std::span<const crypto::PrivateKey* const> keys, const crypto::Context& ctx) {
    auto digest = signing_digest(chain_id, static_cast<const Transaction&>(tx));
    for (const auto* key : keys) tx.signatures.push_back(key->sign_compact(ctx, digest));
    return digest;
}

std::vector<PublicKey> recover_signers(const SignedTransaction& tx, const ChainId& chain_id,
                                       const crypto::Context& ctx) {
    auto digest = signing_digest(chain_id, static_cast<const Transaction&>(tx));
    std::vector<PublicKey> out;
    out.reserve(tx.signatures.size());
    for (std::size_t i = 0; i < tx.signatures.size(); ++i) {
        const auto& sig = tx.signatures[i];
        std::string where = "signatures[" + std::to_string(i) + "]";
        if (sig[0] < 27 || sig[0] >= 35) throw ProtocolError(where, "unable to reconstruct public key from signature");
        if (!crypto::is_canonical(sig)) throw ProtocolError(where, "signature is not canonical");
        auto key = crypto::recover(ctx, sig, digest);
        if (!key) throw ProtocolError(where, "unable to reconstruct public key from signature");
        out.push_back(*key);
    }
    return out;
}

}  // namespace bts::protocol
