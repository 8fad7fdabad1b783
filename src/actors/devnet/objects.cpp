// bts-devnet: JSON views of chain objects, in the node's shapes and field order.
#include "actors/devnet/objects.hpp"

#include "common/crypto/hash.hpp"

#include <limits>

namespace bts::devnet {

using protocol::AccountId;
using protocol::AssetId;
using protocol::to_iso_string;

namespace {

std::string hex(const protocol::BlockId& id) { return crypto::to_hex(id.data); }

std::uint32_t interval_seconds(std::chrono::milliseconds interval) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(interval).count();
    return std::uint32_t(std::max<std::int64_t>(1, s));
}

}  // namespace

Json int64_to_json(std::int64_t v) {
    if (v > std::numeric_limits<std::int32_t>::max() || v < std::numeric_limits<std::int32_t>::min())
        return std::to_string(v);
    return v;
}

Json asset_to_json(const protocol::Asset& a) {
    Json j = Json::object();
    j["amount"] = int64_to_json(a.amount);
    j["asset_id"] = protocol::to_string(a.asset_id);
    return j;
}

Json price_to_json(const protocol::Price& p) {
    Json j = Json::object();
    j["base"] = asset_to_json(p.base);
    j["quote"] = asset_to_json(p.quote);
    return j;
}

Json authority_to_json(const protocol::Authority& a, const std::string& prefix) {
    Json j = Json::object();
    j["weight_threshold"] = a.weight_threshold;
    Json acc = Json::array();
    for (const auto& [id, w] : a.account_auths.items) acc.push_back(Json::array({protocol::to_string(id), w}));
    Json keys = Json::array();
    for (const auto& [k, w] : a.key_auths.items) keys.push_back(Json::array({k.to_string(prefix), w}));
    Json addrs = Json::array();
    for (const auto& [ad, w] : a.address_auths.items)
        addrs.push_back(Json::array({crypto::address_to_string(ad.bytes, prefix), w}));
    j["account_auths"] = std::move(acc);
    j["key_auths"] = std::move(keys);
    j["address_auths"] = std::move(addrs);
    return j;
}

Json account_to_json(const Chain& chain, std::uint64_t instance) {
    const AccountState* a = chain.account(instance);
    if (!a) return nullptr;
    const std::string& prefix = chain.genesis().address_prefix;
    std::string id = protocol::to_string(AccountId{instance});
    Json j = Json::object();
    j["id"] = id;
    j["membership_expiration_date"] = "1970-01-01T00:00:00";
    j["registrar"] = id;
    j["referrer"] = id;
    j["lifetime_referrer"] = id;
    j["network_fee_percentage"] = 2000;
    j["lifetime_referrer_fee_percentage"] = 8000;
    j["referrer_rewards_percentage"] = 0;
    j["name"] = a->name;
    j["owner"] = authority_to_json(a->owner, prefix);
    j["active"] = authority_to_json(a->active, prefix);
    Json options = Json::object();
    options["memo_key"] = a->memo_key.to_string(prefix);
    options["voting_account"] = "1.2.5";
    options["num_witness"] = 0;
    options["num_committee"] = 0;
    options["votes"] = Json::array();
    options["extensions"] = Json::array();
    j["options"] = std::move(options);
    j["num_committee_voted"] = 0;
    j["statistics"] = "2.6." + std::to_string(instance);
    j["whitelisting_accounts"] = Json::array();
    j["blacklisting_accounts"] = Json::array();
    j["whitelisted_accounts"] = Json::array();
    j["blacklisted_accounts"] = Json::array();
    j["owner_special_authority"] = Json::array({0, Json::object()});
    j["active_special_authority"] = Json::array({0, Json::object()});
    j["top_n_control_flags"] = 0;
    j["creation_block_num"] = 0;
    j["creation_time"] = to_iso_string(chain.genesis_time());
    return j;
}

Json asset_object_to_json(const Chain& chain, std::uint64_t instance) {
    const AssetState* s = chain.asset(instance);
    if (!s) return nullptr;
    const auto& g = s->genesis;
    Json j = Json::object();
    j["id"] = protocol::to_string(AssetId{instance});
    j["symbol"] = g.symbol;
    j["precision"] = g.precision;
    j["issuer"] = protocol::to_string(AccountId{s->issuer});
    Json o = Json::object();
    o["max_supply"] = int64_to_json(g.max_supply);
    o["market_fee_percent"] = 0;
    o["max_market_fee"] = int64_to_json(g.max_supply);
    o["issuer_permissions"] = instance == 0 ? 0 : 79;
    o["flags"] = 0;
    o["core_exchange_rate"] = price_to_json(s->core_exchange_rate(instance));
    o["whitelist_authorities"] = Json::array();
    o["blacklist_authorities"] = Json::array();
    o["whitelist_markets"] = Json::array();
    o["blacklist_markets"] = Json::array();
    o["description"] = g.description;
    o["extensions"] = Json::object();
    j["options"] = std::move(o);
    j["dynamic_asset_data_id"] = "2.3." + std::to_string(instance);
    j["creation_block_num"] = 0;
    j["creation_time"] = to_iso_string(chain.genesis_time());
    return j;
}

Json asset_dynamic_to_json(const Chain& chain, std::uint64_t instance) {
    const AssetState* s = chain.asset(instance);
    if (!s) return nullptr;
    Json j = Json::object();
    j["id"] = "2.3." + std::to_string(instance);
    j["current_supply"] = int64_to_json(s->current_supply);
    j["confidential_supply"] = 0;
    j["accumulated_fees"] = int64_to_json(s->accumulated_fees);
    j["accumulated_collateral_fees"] = 0;
    j["fee_pool"] = int64_to_json(s->fee_pool);
    return j;
}

Json order_to_json(const LimitOrder& o) {
    Json j = Json::object();
    j["id"] = protocol::to_string(protocol::LimitOrderId{o.id});
    j["expiration"] = to_iso_string(o.expiration);
    j["seller"] = protocol::to_string(AccountId{o.seller});
    j["for_sale"] = int64_to_json(o.for_sale);
    j["sell_price"] = price_to_json(o.sell_price);
    j["deferred_fee"] = int64_to_json(o.deferred_fee);
    j["deferred_paid_fee"] = asset_to_json(o.deferred_paid_fee);
    j["is_settled_debt"] = false;
    j["on_fill"] = Json::array();
    return j;
}

Json dynamic_global_properties_to_json(const Chain& chain, std::chrono::milliseconds block_interval) {
    const std::uint32_t maintenance = 86400;
    std::uint32_t head = chain.head_block_time().seconds;
    Json j = Json::object();
    j["id"] = "2.1.0";
    j["head_block_number"] = chain.head_block_num();
    j["head_block_id"] = hex(chain.head_block_id());
    j["time"] = to_iso_string(chain.head_block_time());
    const Block* b = chain.block(chain.head_block_num());
    j["current_witness"] = b ? protocol::to_string(b->witness) : std::string("1.6.0");
    j["next_maintenance_time"] = to_iso_string(protocol::TimePointSec{(head / maintenance + 1) * maintenance});
    j["last_vote_tally_time"] = to_iso_string(protocol::TimePointSec{(head / maintenance) * maintenance});
    j["last_budget_time"] = to_iso_string(protocol::TimePointSec{(head / maintenance) * maintenance});
    j["witness_budget"] = 0;
    j["total_pob"] = 0;
    j["total_inactive"] = 0;
    j["accounts_registered_this_interval"] = 0;
    j["recently_missed_count"] = 0;
    j["current_aslot"] = chain.head_block_num();
    j["recent_slots_filled"] = "340282366920938463463374607431768211455";
    j["dynamic_flags"] = 0;
    // One producer: every block is irreversible at once.
    j["last_irreversible_block_num"] = chain.head_block_num();
    (void)block_interval;
    return j;
}

Json fee_schedule_to_json(const FeeSchedule& fees) {
    Json params = Json::array();
    for (const auto& [tag, p] : fees.parameters) {
        Json f = Json::object();
        for (const auto& [name, v] : p.fields) f[name] = int64_to_json(v);
        params.push_back(Json::array({tag, std::move(f)}));
    }
    Json j = Json::object();
    j["parameters"] = std::move(params);
    j["scale"] = fees.scale;
    return j;
}

Json global_properties_to_json(const Chain& chain, std::chrono::milliseconds block_interval) {
    const auto& p = chain.genesis().parameters;
    Json params = Json::object();
    params["current_fees"] = fee_schedule_to_json(chain.genesis().fees);
    params["block_interval"] = interval_seconds(block_interval);
    params["maintenance_interval"] = 86400;
    params["maintenance_skip_slots"] = 3;
    params["committee_proposal_review_period"] = 1209600;
    params["maximum_transaction_size"] = p.maximum_transaction_size;
    params["maximum_block_size"] = p.maximum_block_size;
    params["maximum_time_until_expiration"] = p.maximum_time_until_expiration;
    params["maximum_proposal_lifetime"] = 2419200;
    params["maximum_asset_whitelist_authorities"] = 10;
    params["maximum_asset_feed_publishers"] = 10;
    params["maximum_witness_count"] = 1001;
    params["maximum_committee_count"] = 1001;
    params["maximum_authority_membership"] = 10;
    params["reserve_percent_of_fee"] = 2000;
    params["network_percent_of_fee"] = 2000;
    params["lifetime_referrer_percent_of_fee"] = 3000;
    params["cashback_vesting_period_seconds"] = 31536000;
    params["cashback_vesting_threshold"] = 10000000;
    params["count_non_member_votes"] = true;
    params["allow_non_member_whitelists"] = false;
    params["witness_pay_per_block"] = 1000000;
    params["worker_budget_per_day"] = "50000000000";
    params["max_predicate_opcode"] = 1;
    params["fee_liquidation_threshold"] = 10000000;
    params["accounts_per_fee_scale"] = 1000;
    params["account_fee_scale_bitshifts"] = 4;
    params["max_authority_depth"] = p.max_authority_depth;
    params["extensions"] = Json::object();
    Json witnesses = Json::array();
    for (int i = 1; i <= 11; ++i) witnesses.push_back("1.6." + std::to_string(i));
    Json committee = Json::array();
    for (int i = 0; i < 11; ++i) committee.push_back("1.5." + std::to_string(i));
    Json j = Json::object();
    j["id"] = "2.0.0";
    j["parameters"] = std::move(params);
    j["next_available_vote_id"] = 22;
    j["active_committee_members"] = std::move(committee);
    j["active_witnesses"] = std::move(witnesses);
    return j;
}

Json chain_properties_to_json(const Chain& chain) {
    Json imm = Json::object();
    imm["min_committee_member_count"] = 11;
    imm["min_witness_count"] = 11;
    imm["num_special_accounts"] = 0;
    imm["num_special_assets"] = 0;
    Json j = Json::object();
    j["id"] = "2.11.0";
    j["chain_id"] = crypto::to_hex(chain.chain_id());
    j["immutable_parameters"] = std::move(imm);
    return j;
}

Json config_to_json(const Chain& chain) {
    const auto& g = chain.genesis();
    const auto& core = g.assets.front();
    std::int64_t precision = 1;
    for (int i = 0; i < core.precision; ++i) precision *= 10;
    Json j = Json::object();
    j["GRAPHENE_SYMBOL"] = core.symbol;
    j["GRAPHENE_ADDRESS_PREFIX"] = g.address_prefix;
    j["GRAPHENE_MIN_ACCOUNT_NAME_LENGTH"] = 1;
    j["GRAPHENE_MAX_ACCOUNT_NAME_LENGTH"] = 63;
    j["GRAPHENE_MIN_ASSET_SYMBOL_LENGTH"] = 3;
    j["GRAPHENE_MAX_ASSET_SYMBOL_LENGTH"] = 16;
    j["GRAPHENE_MAX_SHARE_SUPPLY"] = "1000000000000000";
    j["GRAPHENE_MAX_WORKER_NAME_LENGTH"] = 63;
    j["GRAPHENE_MAX_PAY_RATE"] = 10000;
    j["GRAPHENE_MIN_BLOCK_INTERVAL"] = 1;
    j["GRAPHENE_MAX_BLOCK_INTERVAL"] = 30;
    j["GRAPHENE_DEFAULT_BLOCK_INTERVAL"] = 5;
    j["GRAPHENE_DEFAULT_MAX_TRANSACTION_SIZE"] = 2048;
    j["GRAPHENE_DEFAULT_MAX_BLOCK_SIZE"] = 2000000;
    j["GRAPHENE_DEFAULT_MAX_TIME_UNTIL_EXPIRATION"] = 86400;
    j["GRAPHENE_DEFAULT_MAINTENANCE_INTERVAL"] = 86400;
    j["GRAPHENE_DEFAULT_MAINTENANCE_SKIP_SLOTS"] = 3;
    j["GRAPHENE_MIN_UNDO_HISTORY"] = 10;
    j["GRAPHENE_MAX_UNDO_HISTORY"] = 10000;
    j["GRAPHENE_MIN_BLOCK_SIZE_LIMIT"] = 5120;
    j["GRAPHENE_BLOCKCHAIN_PRECISION"] = precision;
    j["GRAPHENE_BLOCKCHAIN_PRECISION_DIGITS"] = core.precision;
    j["GRAPHENE_DEFAULT_TRANSFER_FEE"] = 100000;
    j["GRAPHENE_MAX_INSTANCE_ID"] = "281474976710655";
    j["GRAPHENE_100_PERCENT"] = 10000;
    j["GRAPHENE_1_PERCENT"] = 100;
    j["GRAPHENE_MAX_MARKET_FEE_PERCENT"] = 10000;
    j["GRAPHENE_DEFAULT_FORCE_SETTLEMENT_DELAY"] = 86400;
    j["GRAPHENE_DEFAULT_FORCE_SETTLEMENT_OFFSET"] = 0;
    j["GRAPHENE_DEFAULT_FORCE_SETTLEMENT_MAX_VOLUME"] = 2000;
    j["GRAPHENE_DEFAULT_PRICE_FEED_LIFETIME"] = 86400;
    j["GRAPHENE_DEFAULT_MAX_AUTHORITY_MEMBERSHIP"] = 10;
    j["GRAPHENE_DEFAULT_MAX_ASSET_WHITELIST_AUTHORITIES"] = 10;
    j["GRAPHENE_DEFAULT_MAX_ASSET_FEED_PUBLISHERS"] = 10;
    j["GRAPHENE_COLLATERAL_RATIO_DENOM"] = 1000;
    j["GRAPHENE_MIN_COLLATERAL_RATIO"] = 1001;
    j["GRAPHENE_MAX_COLLATERAL_RATIO"] = 32000;
    j["GRAPHENE_DEFAULT_MAINTENANCE_COLLATERAL_RATIO"] = 1750;
    j["GRAPHENE_DEFAULT_MAX_SHORT_SQUEEZE_RATIO"] = 1500;
    j["GRAPHENE_DEFAULT_MARGIN_PERIOD_SEC"] = 2592000;
    j["GRAPHENE_DEFAULT_MAX_WITNESSES"] = 1001;
    j["GRAPHENE_DEFAULT_MAX_COMMITTEE"] = 1001;
    j["GRAPHENE_DEFAULT_MAX_PROPOSAL_LIFETIME_SEC"] = 2419200;
    j["GRAPHENE_DEFAULT_COMMITTEE_PROPOSAL_REVIEW_PERIOD_SEC"] = 1209600;
    j["GRAPHENE_DEFAULT_NETWORK_PERCENT_OF_FEE"] = 2000;
    j["GRAPHENE_DEFAULT_LIFETIME_REFERRER_PERCENT_OF_FEE"] = 3000;
    j["GRAPHENE_DEFAULT_MAX_BULK_DISCOUNT_PERCENT"] = 5000;
    j["GRAPHENE_DEFAULT_BULK_DISCOUNT_THRESHOLD_MIN"] = 100000000;
    j["GRAPHENE_DEFAULT_BULK_DISCOUNT_THRESHOLD_MAX"] = "10000000000";
    j["GRAPHENE_DEFAULT_CASHBACK_VESTING_PERIOD_SEC"] = 31536000;
    j["GRAPHENE_DEFAULT_CASHBACK_VESTING_THRESHOLD"] = 10000000;
    j["GRAPHENE_DEFAULT_BURN_PERCENT_OF_FEE"] = 2000;
    j["GRAPHENE_WITNESS_PAY_PERCENT_PRECISION"] = 1000000000;
    j["GRAPHENE_DEFAULT_MAX_ASSERT_OPCODE"] = 1;
    j["GRAPHENE_DEFAULT_FEE_LIQUIDATION_THRESHOLD"] = 10000000;
    j["GRAPHENE_DEFAULT_ACCOUNTS_PER_FEE_SCALE"] = 1000;
    j["GRAPHENE_DEFAULT_ACCOUNT_FEE_SCALE_BITSHIFTS"] = 4;
    j["GRAPHENE_MAX_WORKER_NAME_LENGTH"] = 63;
    j["GRAPHENE_MAX_URL_LENGTH"] = 127;
    j["GRAPHENE_CORE_ASSET_CYCLE_RATE"] = 17;
    j["GRAPHENE_CORE_ASSET_CYCLE_RATE_BITS"] = 32;
    j["GRAPHENE_DEFAULT_WITNESS_PAY_PER_BLOCK"] = 1000000;
    j["GRAPHENE_DEFAULT_WITNESS_PAY_VESTING_SECONDS"] = 86400;
    j["GRAPHENE_DEFAULT_WORKER_BUDGET_PER_DAY"] = "50000000000";
    j["GRAPHENE_MAX_INTEREST_APR"] = 10000;
    j["GRAPHENE_COMMITTEE_ACCOUNT"] = "1.2.0";
    j["GRAPHENE_WITNESS_ACCOUNT"] = "1.2.1";
    j["GRAPHENE_RELAXED_COMMITTEE_ACCOUNT"] = "1.2.2";
    j["GRAPHENE_NULL_ACCOUNT"] = "1.2.3";
    j["GRAPHENE_TEMP_ACCOUNT"] = "1.2.4";
    j["GRAPHENE_PROXY_TO_SELF_ACCOUNT"] = "1.2.5";
    j["GRAPHENE_MAX_NESTED_OBJECTS"] = 200;
    j["GRAPHENE_MAX_SIG_CHECK_DEPTH"] = 2;
    return j;
}

Json object_to_json(const Chain& chain, std::string_view text, std::chrono::milliseconds block_interval) {
    auto id = protocol::parse_object_id(text);
    if (!id) return nullptr;
    if (id->space == 2 && id->type == 0 && id->instance == 0) return global_properties_to_json(chain, block_interval);
    if (id->space == 2 && id->type == 1 && id->instance == 0)
        return dynamic_global_properties_to_json(chain, block_interval);
    if (id->space == 2 && id->type == 11 && id->instance == 0) return chain_properties_to_json(chain);
    if (id->space == 1 && id->type == 2) return account_to_json(chain, id->instance);
    if (id->space == 1 && id->type == 3) return asset_object_to_json(chain, id->instance);
    if (id->space == 2 && id->type == 3) return asset_dynamic_to_json(chain, id->instance);
    if (id->space == 1 && id->type == 7) {
        const LimitOrder* o = chain.order(id->instance);
        return o ? order_to_json(*o) : Json(nullptr);
    }
    return nullptr;
}

Json processed_transaction_to_json(const protocol::SignedTransaction& tx, const std::string& prefix) {
    Json j = protocol::to_json(tx, {prefix});
    j["operation_results"] = Json::array();
    return j;
}

Json block_header_to_json(const Block& b, bool with_signature) {
    Json j = Json::object();
    j["previous"] = hex(b.previous);
    j["timestamp"] = to_iso_string(b.timestamp);
    j["witness"] = protocol::to_string(b.witness);
    j["transaction_merkle_root"] = crypto::to_hex(b.merkle_root.data);
    j["extensions"] = Json::array();
    if (with_signature) j["witness_signature"] = crypto::to_hex(b.witness_signature);
    return j;
}

Json block_to_json(const Block& b, const std::string& prefix) {
    Json j = block_header_to_json(b, true);
    Json txs = Json::array();
    for (std::size_t i = 0; i < b.tx_count(); ++i) txs.push_back(processed_transaction_to_json(b.transaction(i), prefix));
    j["transactions"] = std::move(txs);
    return j;
}

Json confirmation_to_json(const PendingTx& tx, std::uint32_t block_num, std::uint32_t trx_num,
                          const std::string& prefix) {
    Json j = Json::object();
    j["id"] = crypto::to_hex(tx.id.data);
    j["block_num"] = block_num;
    j["trx_num"] = trx_num;
    j["trx"] = processed_transaction_to_json(tx.tx, prefix);
    return j;
}

}  // namespace bts::devnet
