// Operations bts-stress can build, sign, serialize and parse: every non-virtual operation with a
// published vector, in bitshares-core's FC_REFLECT field order (= wire order).
// One struct per operation; `fields()` lists members exactly as FC_REFLECT does.
#pragma once

#include "common/protocol/types.hpp"

#include <string_view>
#include <variant>

namespace bts::protocol {

struct LimitOrderCreateExt {
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
    }
    friend bool operator==(const LimitOrderCreateExt&, const LimitOrderCreateExt&) = default;
};

struct CallOrderUpdateExt {
    std::optional<std::uint16_t> target_collateral_ratio;
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
        v("target_collateral_ratio", s.target_collateral_ratio);
    }
    friend bool operator==(const CallOrderUpdateExt&, const CallOrderUpdateExt&) = default;
};

struct AccountCreateExt {
    std::optional<VoidT> null_ext;
    std::optional<SpecialAuthority> owner_special_authority;
    std::optional<SpecialAuthority> active_special_authority;
    std::optional<BuybackOptions> buyback_options;
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
        v("null_ext", s.null_ext);
        v("owner_special_authority", s.owner_special_authority);
        v("active_special_authority", s.active_special_authority);
        v("buyback_options", s.buyback_options);
    }
    friend bool operator==(const AccountCreateExt&, const AccountCreateExt&) = default;
};

struct AccountUpdateExt {
    std::optional<VoidT> null_ext;
    std::optional<SpecialAuthority> owner_special_authority;
    std::optional<SpecialAuthority> active_special_authority;
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
        v("null_ext", s.null_ext);
        v("owner_special_authority", s.owner_special_authority);
        v("active_special_authority", s.active_special_authority);
    }
    friend bool operator==(const AccountUpdateExt&, const AccountUpdateExt&) = default;
};

struct AssetUpdateExt {
    std::optional<bool> skip_core_exchange_rate;
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
        v("skip_core_exchange_rate", s.skip_core_exchange_rate);
    }
    friend bool operator==(const AssetUpdateExt&, const AssetUpdateExt&) = default;
};

struct AssetPublishFeedExt {
    std::optional<std::uint16_t> initial_collateral_ratio;
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
        v("initial_collateral_ratio", s.initial_collateral_ratio);
    }
    friend bool operator==(const AssetPublishFeedExt&, const AssetPublishFeedExt&) = default;
};

struct AssetClaimFeesExt {
    std::optional<AssetId> claim_from_asset_id;
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
        v("claim_from_asset_id", s.claim_from_asset_id);
    }
    friend bool operator==(const AssetClaimFeesExt&, const AssetClaimFeesExt&) = default;
};

struct HtlcCreateExt {
    std::optional<Memo> memo;
    template <class Self, class V>
    static void fields([[maybe_unused]] Self& s, [[maybe_unused]] V& v) {
        v("memo", s.memo);
    }
    friend bool operator==(const HtlcCreateExt&, const HtlcCreateExt&) = default;
};

struct OpWrapper;  // proposal_create.proposed_ops element: {"op": operation}

struct TransferOp {
    static constexpr std::uint32_t tag = 0;
    static constexpr std::string_view type_name = "transfer";
    Asset fee;
    AccountId from;
    AccountId to;
    Asset amount;
    std::optional<Memo> memo;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("from", s.from);
        v("to", s.to);
        v("amount", s.amount);
        v("memo", s.memo);
        v("extensions", s.extensions);
    }
    friend bool operator==(const TransferOp&, const TransferOp&) = default;
};

struct LimitOrderCreateOp {
    static constexpr std::uint32_t tag = 1;
    static constexpr std::string_view type_name = "limit_order_create";
    Asset fee;
    AccountId seller;
    Asset amount_to_sell;
    Asset min_to_receive;
    TimePointSec expiration{TimePointSec::maximum()};
    bool fill_or_kill = false;
    Extension<LimitOrderCreateExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("seller", s.seller);
        v("amount_to_sell", s.amount_to_sell);
        v("min_to_receive", s.min_to_receive);
        v("expiration", s.expiration);
        v("fill_or_kill", s.fill_or_kill);
        v("extensions", s.extensions);
    }
    friend bool operator==(const LimitOrderCreateOp&, const LimitOrderCreateOp&) = default;
};

struct LimitOrderCancelOp {
    static constexpr std::uint32_t tag = 2;
    static constexpr std::string_view type_name = "limit_order_cancel";
    Asset fee;
    AccountId fee_paying_account;
    LimitOrderId order;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("fee_paying_account", s.fee_paying_account);
        v("order", s.order);
        v("extensions", s.extensions);
    }
    friend bool operator==(const LimitOrderCancelOp&, const LimitOrderCancelOp&) = default;
};

struct CallOrderUpdateOp {
    static constexpr std::uint32_t tag = 3;
    static constexpr std::string_view type_name = "call_order_update";
    Asset fee;
    AccountId funding_account;
    Asset delta_collateral;
    Asset delta_debt;
    Extension<CallOrderUpdateExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("funding_account", s.funding_account);
        v("delta_collateral", s.delta_collateral);
        v("delta_debt", s.delta_debt);
        v("extensions", s.extensions);
    }
    friend bool operator==(const CallOrderUpdateOp&, const CallOrderUpdateOp&) = default;
};

struct AccountCreateOp {
    static constexpr std::uint32_t tag = 5;
    static constexpr std::string_view type_name = "account_create";
    Asset fee;
    AccountId registrar;
    AccountId referrer;
    std::uint16_t referrer_percent = 0;
    std::string name;
    Authority owner;
    Authority active;
    AccountOptions options;
    Extension<AccountCreateExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("registrar", s.registrar);
        v("referrer", s.referrer);
        v("referrer_percent", s.referrer_percent);
        v("name", s.name);
        v("owner", s.owner);
        v("active", s.active);
        v("options", s.options);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AccountCreateOp&, const AccountCreateOp&) = default;
};

struct AccountUpdateOp {
    static constexpr std::uint32_t tag = 6;
    static constexpr std::string_view type_name = "account_update";
    Asset fee;
    AccountId account;
    std::optional<Authority> owner;
    std::optional<Authority> active;
    std::optional<AccountOptions> new_options;
    Extension<AccountUpdateExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("account", s.account);
        v("owner", s.owner);
        v("active", s.active);
        v("new_options", s.new_options);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AccountUpdateOp&, const AccountUpdateOp&) = default;
};

struct AccountWhitelistOp {
    static constexpr std::uint32_t tag = 7;
    static constexpr std::string_view type_name = "account_whitelist";
    Asset fee;
    AccountId authorizing_account;
    AccountId account_to_list;
    std::uint8_t new_listing = 0;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("authorizing_account", s.authorizing_account);
        v("account_to_list", s.account_to_list);
        v("new_listing", s.new_listing);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AccountWhitelistOp&, const AccountWhitelistOp&) = default;
};

struct AccountUpgradeOp {
    static constexpr std::uint32_t tag = 8;
    static constexpr std::string_view type_name = "account_upgrade";
    Asset fee;
    AccountId account_to_upgrade;
    bool upgrade_to_lifetime_member = false;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("account_to_upgrade", s.account_to_upgrade);
        v("upgrade_to_lifetime_member", s.upgrade_to_lifetime_member);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AccountUpgradeOp&, const AccountUpgradeOp&) = default;
};

struct AssetCreateOp {
    static constexpr std::uint32_t tag = 10;
    static constexpr std::string_view type_name = "asset_create";
    Asset fee;
    AccountId issuer;
    std::string symbol;
    std::uint8_t precision = 0;
    AssetOptions common_options;
    std::optional<BitassetOptions> bitasset_opts;
    bool is_prediction_market = false;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("symbol", s.symbol);
        v("precision", s.precision);
        v("common_options", s.common_options);
        v("bitasset_opts", s.bitasset_opts);
        v("is_prediction_market", s.is_prediction_market);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetCreateOp&, const AssetCreateOp&) = default;
};

struct AssetUpdateOp {
    static constexpr std::uint32_t tag = 11;
    static constexpr std::string_view type_name = "asset_update";
    Asset fee;
    AccountId issuer;
    AssetId asset_to_update;
    std::optional<AccountId> new_issuer;
    AssetOptions new_options;
    Extension<AssetUpdateExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("asset_to_update", s.asset_to_update);
        v("new_issuer", s.new_issuer);
        v("new_options", s.new_options);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetUpdateOp&, const AssetUpdateOp&) = default;
};

struct AssetUpdateBitassetOp {
    static constexpr std::uint32_t tag = 12;
    static constexpr std::string_view type_name = "asset_update_bitasset";
    Asset fee;
    AccountId issuer;
    AssetId asset_to_update;
    BitassetOptions new_options;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("asset_to_update", s.asset_to_update);
        v("new_options", s.new_options);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetUpdateBitassetOp&, const AssetUpdateBitassetOp&) = default;
};

struct AssetUpdateFeedProducersOp {
    static constexpr std::uint32_t tag = 13;
    static constexpr std::string_view type_name = "asset_update_feed_producers";
    Asset fee;
    AccountId issuer;
    AssetId asset_to_update;
    FlatSet<AccountId> new_feed_producers;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("asset_to_update", s.asset_to_update);
        v("new_feed_producers", s.new_feed_producers);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetUpdateFeedProducersOp&, const AssetUpdateFeedProducersOp&) = default;
};

struct AssetIssueOp {
    static constexpr std::uint32_t tag = 14;
    static constexpr std::string_view type_name = "asset_issue";
    Asset fee;
    AccountId issuer;
    Asset asset_to_issue;
    AccountId issue_to_account;
    std::optional<Memo> memo;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("asset_to_issue", s.asset_to_issue);
        v("issue_to_account", s.issue_to_account);
        v("memo", s.memo);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetIssueOp&, const AssetIssueOp&) = default;
};

struct AssetReserveOp {
    static constexpr std::uint32_t tag = 15;
    static constexpr std::string_view type_name = "asset_reserve";
    Asset fee;
    AccountId payer;
    Asset amount_to_reserve;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("payer", s.payer);
        v("amount_to_reserve", s.amount_to_reserve);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetReserveOp&, const AssetReserveOp&) = default;
};

struct AssetFundFeePoolOp {
    static constexpr std::uint32_t tag = 16;
    static constexpr std::string_view type_name = "asset_fund_fee_pool";
    Asset fee;
    AccountId from_account;
    AssetId asset_id;
    std::int64_t amount = 0;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("from_account", s.from_account);
        v("asset_id", s.asset_id);
        v("amount", s.amount);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetFundFeePoolOp&, const AssetFundFeePoolOp&) = default;
};

struct AssetSettleOp {
    static constexpr std::uint32_t tag = 17;
    static constexpr std::string_view type_name = "asset_settle";
    Asset fee;
    AccountId account;
    Asset amount;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("account", s.account);
        v("amount", s.amount);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetSettleOp&, const AssetSettleOp&) = default;
};

struct AssetGlobalSettleOp {
    static constexpr std::uint32_t tag = 18;
    static constexpr std::string_view type_name = "asset_global_settle";
    Asset fee;
    AccountId issuer;
    AssetId asset_to_settle;
    Price settle_price;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("asset_to_settle", s.asset_to_settle);
        v("settle_price", s.settle_price);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetGlobalSettleOp&, const AssetGlobalSettleOp&) = default;
};

struct AssetPublishFeedOp {
    static constexpr std::uint32_t tag = 19;
    static constexpr std::string_view type_name = "asset_publish_feed";
    Asset fee;
    AccountId publisher;
    AssetId asset_id;
    PriceFeed feed;
    Extension<AssetPublishFeedExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("publisher", s.publisher);
        v("asset_id", s.asset_id);
        v("feed", s.feed);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetPublishFeedOp&, const AssetPublishFeedOp&) = default;
};

struct WitnessUpdateOp {
    static constexpr std::uint32_t tag = 21;
    static constexpr std::string_view type_name = "witness_update";
    Asset fee;
    WitnessId witness;
    AccountId witness_account;
    std::optional<std::string> new_url;
    std::optional<PublicKey> new_signing_key;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("witness", s.witness);
        v("witness_account", s.witness_account);
        v("new_url", s.new_url);
        v("new_signing_key", s.new_signing_key);
    }
    friend bool operator==(const WitnessUpdateOp&, const WitnessUpdateOp&) = default;
};

struct ProposalCreateOp {
    static constexpr std::uint32_t tag = 22;
    static constexpr std::string_view type_name = "proposal_create";
    Asset fee;
    AccountId fee_paying_account;
    TimePointSec expiration_time;
    std::vector<OpWrapper> proposed_ops;
    std::optional<std::uint32_t> review_period_seconds;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("fee_paying_account", s.fee_paying_account);
        v("expiration_time", s.expiration_time);
        v("proposed_ops", s.proposed_ops);
        v("review_period_seconds", s.review_period_seconds);
        v("extensions", s.extensions);
    }
    friend bool operator==(const ProposalCreateOp&, const ProposalCreateOp&) = default;
};

struct ProposalUpdateOp {
    static constexpr std::uint32_t tag = 23;
    static constexpr std::string_view type_name = "proposal_update";
    Asset fee;
    AccountId fee_paying_account;
    ProposalId proposal;
    FlatSet<AccountId> active_approvals_to_add;
    FlatSet<AccountId> active_approvals_to_remove;
    FlatSet<AccountId> owner_approvals_to_add;
    FlatSet<AccountId> owner_approvals_to_remove;
    FlatSet<PublicKey, KeyAddressLess> key_approvals_to_add;
    FlatSet<PublicKey, KeyAddressLess> key_approvals_to_remove;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("fee_paying_account", s.fee_paying_account);
        v("proposal", s.proposal);
        v("active_approvals_to_add", s.active_approvals_to_add);
        v("active_approvals_to_remove", s.active_approvals_to_remove);
        v("owner_approvals_to_add", s.owner_approvals_to_add);
        v("owner_approvals_to_remove", s.owner_approvals_to_remove);
        v("key_approvals_to_add", s.key_approvals_to_add);
        v("key_approvals_to_remove", s.key_approvals_to_remove);
        v("extensions", s.extensions);
    }
    friend bool operator==(const ProposalUpdateOp&, const ProposalUpdateOp&) = default;
};

struct WithdrawPermissionCreateOp {
    static constexpr std::uint32_t tag = 25;
    static constexpr std::string_view type_name = "withdraw_permission_create";
    Asset fee;
    AccountId withdraw_from_account;
    AccountId authorized_account;
    Asset withdrawal_limit;
    std::uint32_t withdrawal_period_sec = 0;
    std::uint32_t periods_until_expiration = 0;
    TimePointSec period_start_time;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("withdraw_from_account", s.withdraw_from_account);
        v("authorized_account", s.authorized_account);
        v("withdrawal_limit", s.withdrawal_limit);
        v("withdrawal_period_sec", s.withdrawal_period_sec);
        v("periods_until_expiration", s.periods_until_expiration);
        v("period_start_time", s.period_start_time);
    }
    friend bool operator==(const WithdrawPermissionCreateOp&, const WithdrawPermissionCreateOp&) = default;
};

struct CommitteeMemberCreateOp {
    static constexpr std::uint32_t tag = 29;
    static constexpr std::string_view type_name = "committee_member_create";
    Asset fee;
    AccountId committee_member_account;
    std::string url;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("committee_member_account", s.committee_member_account);
        v("url", s.url);
    }
    friend bool operator==(const CommitteeMemberCreateOp&, const CommitteeMemberCreateOp&) = default;
};

struct VestingBalanceWithdrawOp {
    static constexpr std::uint32_t tag = 33;
    static constexpr std::string_view type_name = "vesting_balance_withdraw";
    Asset fee;
    VestingBalanceId vesting_balance;
    AccountId owner;
    Asset amount;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("vesting_balance", s.vesting_balance);
        v("owner", s.owner);
        v("amount", s.amount);
    }
    friend bool operator==(const VestingBalanceWithdrawOp&, const VestingBalanceWithdrawOp&) = default;
};

struct CustomOp {
    static constexpr std::uint32_t tag = 35;
    static constexpr std::string_view type_name = "custom";
    Asset fee;
    AccountId payer;
    FlatSet<AccountId> required_auths;
    std::uint16_t id = 0;
    Blob data;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("payer", s.payer);
        v("required_auths", s.required_auths);
        v("id", s.id);
        v("data", s.data);
    }
    friend bool operator==(const CustomOp&, const CustomOp&) = default;
};

struct AssertOp {
    static constexpr std::uint32_t tag = 36;
    static constexpr std::string_view type_name = "assert";
    Asset fee;
    AccountId fee_paying_account;
    std::vector<Predicate> predicates;
    FlatSet<AccountId> required_auths;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("fee_paying_account", s.fee_paying_account);
        v("predicates", s.predicates);
        v("required_auths", s.required_auths);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssertOp&, const AssertOp&) = default;
};

struct BalanceClaimOp {
    static constexpr std::uint32_t tag = 37;
    static constexpr std::string_view type_name = "balance_claim";
    Asset fee;
    AccountId deposit_to_account;
    BalanceId balance_to_claim;
    PublicKey balance_owner_key;
    Asset total_claimed;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("deposit_to_account", s.deposit_to_account);
        v("balance_to_claim", s.balance_to_claim);
        v("balance_owner_key", s.balance_owner_key);
        v("total_claimed", s.total_claimed);
    }
    friend bool operator==(const BalanceClaimOp&, const BalanceClaimOp&) = default;
};

struct OverrideTransferOp {
    static constexpr std::uint32_t tag = 38;
    static constexpr std::string_view type_name = "override_transfer";
    Asset fee;
    AccountId issuer;
    AccountId from;
    AccountId to;
    Asset amount;
    std::optional<Memo> memo;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("from", s.from);
        v("to", s.to);
        v("amount", s.amount);
        v("memo", s.memo);
        v("extensions", s.extensions);
    }
    friend bool operator==(const OverrideTransferOp&, const OverrideTransferOp&) = default;
};

struct AssetClaimFeesOp {
    static constexpr std::uint32_t tag = 43;
    static constexpr std::string_view type_name = "asset_claim_fees";
    Asset fee;
    AccountId issuer;
    Asset amount_to_claim;
    Extension<AssetClaimFeesExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("amount_to_claim", s.amount_to_claim);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetClaimFeesOp&, const AssetClaimFeesOp&) = default;
};

struct BidCollateralOp {
    static constexpr std::uint32_t tag = 45;
    static constexpr std::string_view type_name = "bid_collateral";
    Asset fee;
    AccountId bidder;
    Asset additional_collateral;
    Asset debt_covered;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("bidder", s.bidder);
        v("additional_collateral", s.additional_collateral);
        v("debt_covered", s.debt_covered);
        v("extensions", s.extensions);
    }
    friend bool operator==(const BidCollateralOp&, const BidCollateralOp&) = default;
};

struct AssetClaimPoolOp {
    static constexpr std::uint32_t tag = 47;
    static constexpr std::string_view type_name = "asset_claim_pool";
    Asset fee;
    AccountId issuer;
    AssetId asset_id;
    Asset amount_to_claim;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("asset_id", s.asset_id);
        v("amount_to_claim", s.amount_to_claim);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetClaimPoolOp&, const AssetClaimPoolOp&) = default;
};

struct AssetUpdateIssuerOp {
    static constexpr std::uint32_t tag = 48;
    static constexpr std::string_view type_name = "asset_update_issuer";
    Asset fee;
    AccountId issuer;
    AssetId asset_to_update;
    AccountId new_issuer;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("issuer", s.issuer);
        v("asset_to_update", s.asset_to_update);
        v("new_issuer", s.new_issuer);
        v("extensions", s.extensions);
    }
    friend bool operator==(const AssetUpdateIssuerOp&, const AssetUpdateIssuerOp&) = default;
};

struct HtlcCreateOp {
    static constexpr std::uint32_t tag = 49;
    static constexpr std::string_view type_name = "htlc_create";
    Asset fee;
    AccountId from;
    AccountId to;
    Asset amount;
    HtlcHash preimage_hash;
    std::uint16_t preimage_size = 0;
    std::uint32_t claim_period_seconds = 0;
    Extension<HtlcCreateExt> extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("from", s.from);
        v("to", s.to);
        v("amount", s.amount);
        v("preimage_hash", s.preimage_hash);
        v("preimage_size", s.preimage_size);
        v("claim_period_seconds", s.claim_period_seconds);
        v("extensions", s.extensions);
    }
    friend bool operator==(const HtlcCreateOp&, const HtlcCreateOp&) = default;
};

struct HtlcRedeemOp {
    static constexpr std::uint32_t tag = 50;
    static constexpr std::string_view type_name = "htlc_redeem";
    Asset fee;
    HtlcId htlc_id;
    AccountId redeemer;
    Blob preimage;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("htlc_id", s.htlc_id);
        v("redeemer", s.redeemer);
        v("preimage", s.preimage);
        v("extensions", s.extensions);
    }
    friend bool operator==(const HtlcRedeemOp&, const HtlcRedeemOp&) = default;
};

struct HtlcExtendOp {
    static constexpr std::uint32_t tag = 52;
    static constexpr std::string_view type_name = "htlc_extend";
    Asset fee;
    HtlcId htlc_id;
    AccountId update_issuer;
    std::uint32_t seconds_to_add = 0;
    FutureExtensions extensions;
    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("fee", s.fee);
        v("htlc_id", s.htlc_id);
        v("update_issuer", s.update_issuer);
        v("seconds_to_add", s.seconds_to_add);
        v("extensions", s.extensions);
    }
    friend bool operator==(const HtlcExtendOp&, const HtlcExtendOp&) = default;
};

using Operation = std::variant<
    TransferOp,
    LimitOrderCreateOp,
    LimitOrderCancelOp,
    CallOrderUpdateOp,
    AccountCreateOp,
    AccountUpdateOp,
    AccountWhitelistOp,
    AccountUpgradeOp,
    AssetCreateOp,
    AssetUpdateOp,
    AssetUpdateBitassetOp,
    AssetUpdateFeedProducersOp,
    AssetIssueOp,
    AssetReserveOp,
    AssetFundFeePoolOp,
    AssetSettleOp,
    AssetGlobalSettleOp,
    AssetPublishFeedOp,
    WitnessUpdateOp,
    ProposalCreateOp,
    ProposalUpdateOp,
    WithdrawPermissionCreateOp,
    CommitteeMemberCreateOp,
    VestingBalanceWithdrawOp,
    CustomOp,
    AssertOp,
    BalanceClaimOp,
    OverrideTransferOp,
    AssetClaimFeesOp,
    BidCollateralOp,
    AssetClaimPoolOp,
    AssetUpdateIssuerOp,
    HtlcCreateOp,
    HtlcRedeemOp,
    HtlcExtendOp>;

struct OpWrapper {
    Operation op;
    template <class Self, class V>
    static void fields(Self& s, V& v) { v("op", s.op); }
    friend bool operator==(const OpWrapper&, const OpWrapper&) = default;
};

// Tag of an operation (its number on the wire, fixed forever).
[[nodiscard]] inline std::uint32_t op_tag(const Operation& op) {
    return std::visit([](const auto& o) { return std::decay_t<decltype(o)>::tag; }, op);
}
[[nodiscard]] inline std::string_view op_name(const Operation& op) {
    return std::visit([](const auto& o) { return std::decay_t<decltype(o)>::type_name; }, op);
}
// Variant index for a wire tag, or -1 when the tag is not one we support.
[[nodiscard]] int op_index_for_tag(std::uint32_t tag);
// Operation name for any tag 0..77 (also ones we cannot build), for error messages.
[[nodiscard]] std::string_view op_name_for_tag(std::uint32_t tag);
// Default-constructs the operation with this wire tag; false if unsupported.
[[nodiscard]] bool make_operation(std::uint32_t tag, Operation& out);

// The checks of bitshares-core's <op>::validate() that need no chain state. Returns the failed
// assertion as bitshares-core spells it (e.g. "from != to"), or nullopt when valid.
[[nodiscard]] std::optional<std::string> validate(const Operation& op);

}  // namespace bts::protocol
