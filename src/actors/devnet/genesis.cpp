// bts-devnet genesis TOML: parsing, validation, deterministic keys for account ranges.
#include "actors/devnet/genesis.hpp"

#include "actors/devnet/default_genesis.hpp"
#include "common/crypto/hash.hpp"
#include "common/crypto/keys.hpp"
#include "common/util/config.hpp"

#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace bts::devnet {

namespace {

using util::ConfigError;
using util::TomlTable;

protocol::Authority single_key_authority(const protocol::PublicKey& key) {
    protocol::Authority a;
    a.weight_threshold = 1;
    a.key_auths.items.push_back({key, 1});
    return a;
}

protocol::PublicKey parse_key(const TomlTable& t, std::string_view key, const std::string& prefix) {
    std::string text = t.require_string(key);
    std::string err;
    auto k = protocol::PublicKey::parse(text, &err, prefix);
    if (!k) t.fail(key, "bad public key \"" + text + "\": " + err);
    return *k;
}

// Authorities that name accounts are resolved after every account is known.
struct PendingAccountAuth {
    std::size_t account_index;
    bool owner;
    std::string name;
    std::uint16_t weight;
    std::string key_path;
    std::string source;
};

protocol::Authority parse_authority(const TomlTable& t, const std::string& prefix, std::size_t account_index,
                                    bool owner, std::vector<PendingAccountAuth>& pending) {
    t.reject_unknown_keys({"weight_threshold", "keys", "accounts"});
    protocol::Authority a;
    a.weight_threshold = static_cast<std::uint32_t>(t.get_int("weight_threshold", 1, 0, 0xffffffffLL));
    for (const auto& k : t.get_table_array("keys")) {
        k.reject_unknown_keys({"key", "weight"});
        auto key = parse_key(k, "key", prefix);
        auto w = static_cast<std::uint16_t>(k.get_int("weight", 1, 1, 0xffff));
        a.key_auths.items.push_back({key, w});
    }
    for (const auto& acc : t.get_table_array("accounts")) {
        acc.reject_unknown_keys({"account", "weight"});
        pending.push_back({account_index, owner, acc.require_string("account"),
                           static_cast<std::uint16_t>(acc.get_int("weight", 1, 1, 0xffff)),
                           acc.key_path("account"), acc.source()});
    }
    a.key_auths.normalize();
    return a;
}

void parse_balances(const TomlTable& t, GenesisAccount& acc) {
    if (!t.contains("balances")) return;
    TomlTable b = t.table("balances");
    for (const auto& symbol : b.keys()) {
        std::int64_t units = 0;
        try {
            units = b.get_int(symbol, 0, 0);
        } catch (const ConfigError&) {
            // Not an integer: a decimal string, converted once the asset's precision is known.
            std::string text = b.get_string(symbol, "");
            acc.balances.push_back({symbol + "\x01" + text, 0});
            continue;
        }
        acc.balances.push_back({symbol, units});
    }
}

}  // namespace

std::int64_t FeeParameters::get(std::string_view name, std::int64_t fallback) const {
    for (const auto& [k, v] : fields)
        if (k == name) return v;
    return fallback;
}

FeeSchedule FeeSchedule::defaults() {
    // libraries/protocol/include/graphene/protocol/*.hpp fee_parameters_type defaults, which
    // genesis-dev.json also uses (1 BTS = 100000 base units).
    FeeSchedule s;
    auto put = [&s](std::uint32_t tag, std::vector<std::pair<std::string, std::int64_t>> f) {
        s.parameters[tag].fields = std::move(f);
    };
    put(0, {{"fee", 2000000}, {"price_per_kbyte", 1000000}});  // transfer
    put(1, {{"fee", 500000}});                                 // limit_order_create
    put(2, {{"fee", 0}});                                      // limit_order_cancel
    put(3, {{"fee", 2000000}});                                // call_order_update
    put(5, {{"basic_fee", 500000}, {"premium_fee", 200000000}, {"price_per_kbyte", 100000}});  // account_create
    put(6, {{"fee", 2000}, {"price_per_kbyte", 100000}});      // account_update
    put(14, {{"fee", 2000000}, {"price_per_kbyte", 1000000}});  // asset_issue
    return s;
}

std::optional<std::int64_t> parse_decimal_amount(std::string_view text, std::uint8_t precision) {
    if (text.empty()) return std::nullopt;
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty() || frac.size() > precision) return std::nullopt;
    if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
    std::int64_t w = 0;
    auto r = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (r.ec != std::errc{} || r.ptr != whole.data() + whole.size() || w < 0) return std::nullopt;
    std::int64_t scale = 1;
    for (int i = 0; i < precision; ++i) scale *= 10;
    std::int64_t f = 0;
    for (char c : frac) {
        if (c < '0' || c > '9') return std::nullopt;
        f = f * 10 + (c - '0');
    }
    for (std::size_t i = frac.size(); i < precision; ++i) f *= 10;
    if (w > (std::numeric_limits<std::int64_t>::max() - f) / scale) return std::nullopt;
    return w * scale + f;
}

std::optional<std::uint32_t> op_tag_for_name(std::string_view name) {
    for (std::uint32_t tag = 0; tag < 100; ++tag) {
        auto n = protocol::op_name_for_tag(tag);
        if (n == "unknown") break;
        if (n == name) return tag;
    }
    return std::nullopt;
}

Genesis Genesis::parse(std::string_view text, std::string source) {
    util::TomlDoc doc = util::TomlDoc::parse(text, source);
    Genesis g;
    g.source = source;
    g.chain_id = crypto::sha256(text);
    doc.reject_unknown_keys({"chain", "parameters", "fees", "assets", "accounts", "account_ranges"});

    TomlTable chain = doc.table("chain");
    chain.reject_unknown_keys({"name", "address_prefix", "witness_key_seed"});
    g.address_prefix = chain.get_string("address_prefix", g.address_prefix);
    if (g.address_prefix.empty() || g.address_prefix.size() > 8) chain.fail("address_prefix", "must be 1 to 8 characters");
    g.witness_key_seed = chain.get_string("witness_key_seed", g.witness_key_seed);

    TomlTable params = doc.table("parameters");
    params.reject_unknown_keys({"maximum_transaction_size", "maximum_block_size", "maximum_time_until_expiration",
                                "max_authority_depth"});
    auto& p = g.parameters;
    p.maximum_transaction_size = static_cast<std::uint32_t>(
        params.get_int("maximum_transaction_size", p.maximum_transaction_size, 64, 1024 * 1024));
    p.maximum_block_size =
        static_cast<std::uint32_t>(params.get_int("maximum_block_size", p.maximum_block_size, 1024, 0x7fffffff));
    p.maximum_time_until_expiration = static_cast<std::uint32_t>(
        params.get_int("maximum_time_until_expiration", p.maximum_time_until_expiration, 1, 0x7fffffff));
    p.max_authority_depth =
        static_cast<std::uint8_t>(params.get_int("max_authority_depth", p.max_authority_depth, 0, 16));

    g.fees = FeeSchedule::defaults();
    TomlTable fees = doc.table("fees");
    for (const auto& name : fees.keys()) {
        if (name == "scale") {
            g.fees.scale = static_cast<std::uint32_t>(fees.get_int("scale", 10000, 0, 0xffffffffLL));
            continue;
        }
        auto tag = op_tag_for_name(name);
        if (!tag) fees.fail(name, "unknown operation name (use bitshares-core names such as \"transfer\")");
        TomlTable f = fees.table(name);
        FeeParameters fp;
        for (const auto& field : f.keys()) fp.fields.push_back({field, f.get_int(field, 0, 0)});
        g.fees.parameters[*tag] = std::move(fp);
    }

    // Assets.
    std::set<std::string> symbols;
    for (const auto& a : doc.get_table_array("assets")) {
        a.reject_unknown_keys({"symbol", "precision", "issuer", "max_supply", "description", "core_exchange_rate",
                               "fee_pool"});
        GenesisAsset asset;
        asset.symbol = a.require_string("symbol");
        if (asset.symbol.size() < 3 || asset.symbol.size() > 16) a.fail("symbol", "must be 3 to 16 characters");
        for (char c : asset.symbol)
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'))
                a.fail("symbol", "only A-Z, 0-9 and '.' are allowed");
        if (!symbols.insert(asset.symbol).second) a.fail("symbol", "duplicate symbol " + asset.symbol);
        asset.precision = static_cast<std::uint8_t>(a.get_int("precision", 5, 0, 12));
        asset.issuer = a.get_string("issuer", "committee-account");
        asset.max_supply = a.get_int("max_supply", asset.max_supply, 1, 1000000000000000LL);
        asset.description = a.get_string("description", "");
        if (a.contains("core_exchange_rate")) {
            TomlTable cer = a.table("core_exchange_rate");
            cer.reject_unknown_keys({"asset", "core"});
            asset.cer_asset = cer.get_int("asset", 1, 1, 1000000000000000LL);
            asset.cer_core = cer.get_int("core", 1, 1, 1000000000000000LL);
        }
        asset.fee_pool = a.get_int("fee_pool", 0, 0, 1000000000000000LL);
        g.assets.push_back(std::move(asset));
    }
    if (g.assets.empty()) doc.fail("assets", "at least the core asset is required");

    // Accounts.
    std::vector<PendingAccountAuth> pending_auths;
    std::set<std::string> names(std::begin(kReservedAccounts), std::end(kReservedAccounts));
    auto add_account = [&](GenesisAccount acc, const TomlTable& where) {
        if (!names.insert(acc.name).second) where.fail("name", "duplicate account name " + acc.name);
        g.accounts.push_back(std::move(acc));
    };
    crypto::Context ctx;
    auto add_single = [&](const TomlTable& a) {
        a.reject_unknown_keys({"name", "key", "owner_key", "active_key", "memo_key", "owner", "active", "balances"});
        GenesisAccount acc;
        acc.name = a.require_string("name");
        std::size_t index = g.accounts.size();
        std::optional<protocol::PublicKey> key;
        if (a.contains("key")) key = parse_key(a, "key", g.address_prefix);
        if (a.contains("owner")) {
            acc.owner = parse_authority(a.table("owner"), g.address_prefix, index, true, pending_auths);
        } else if (a.contains("owner_key")) {
            acc.owner = single_key_authority(parse_key(a, "owner_key", g.address_prefix));
        } else if (key) {
            acc.owner = single_key_authority(*key);
        } else {
            a.fail("key", "an account needs key, owner_key or owner");
        }
        if (a.contains("active")) {
            acc.active = parse_authority(a.table("active"), g.address_prefix, index, false, pending_auths);
        } else if (a.contains("active_key")) {
            acc.active = single_key_authority(parse_key(a, "active_key", g.address_prefix));
        } else if (key) {
            acc.active = single_key_authority(*key);
        } else {
            acc.active = acc.owner;
        }
        if (a.contains("memo_key")) {
            acc.memo_key = parse_key(a, "memo_key", g.address_prefix);
        } else if (key) {
            acc.memo_key = *key;
        } else if (!acc.active.key_auths.items.empty()) {
            acc.memo_key = acc.active.key_auths.items.front().first;
        }
        parse_balances(a, acc);
        add_account(std::move(acc), a);
    };
    auto add_range = [&](const TomlTable& r) {
        r.reject_unknown_keys({"prefix", "count", "key_seed_prefix", "key_seed", "balances"});
        std::string prefix = r.require_string("prefix");
        auto count = r.get_int("count", 0, 0, 1000000);
        bool per_account = r.contains("key_seed_prefix");
        if (per_account == r.contains("key_seed"))
            r.fail("key_seed_prefix", "give exactly one of key_seed_prefix and key_seed");
        std::string seed = per_account ? r.require_string("key_seed_prefix") : r.require_string("key_seed");
        GenesisAccount proto;
        parse_balances(r, proto);
        std::optional<protocol::PublicKey> shared;
        if (!per_account) shared = crypto::PrivateKey::from_seed(ctx, seed).public_key();
        for (std::int64_t i = 0; i < count; ++i) {
            GenesisAccount acc = proto;
            acc.name = prefix + std::to_string(i);
            protocol::PublicKey key =
                shared ? *shared : crypto::PrivateKey::from_seed(ctx, seed + std::to_string(i)).public_key();
            acc.owner = single_key_authority(key);
            acc.active = acc.owner;
            acc.memo_key = key;
            add_account(std::move(acc), r);
        }
    };
    // [[accounts]] entries are single accounts, or ranges when they have `prefix`: file order
    // is id order. [[account_ranges]] come after every [[accounts]] entry.
    for (const auto& a : doc.get_table_array("accounts")) {
        if (a.contains("prefix"))
            add_range(a);
        else
            add_single(a);
    }
    for (const auto& r : doc.get_table_array("account_ranges")) add_range(r);
    // Account names must be valid Graphene names (what account_create would accept).
    for (const auto& acc : g.accounts) {
        protocol::AccountCreateOp op;
        op.name = acc.name;
        op.owner.weight_threshold = 1;
        op.owner.key_auths.items.push_back({acc.active.key_auths.items.empty() ? protocol::PublicKey{}
                                                                                 : acc.active.key_auths.items[0].first,
                                            1});
        auto failed = protocol::validate(protocol::Operation{op});
        if (failed && failed->find("is_valid_account_name") != std::string::npos)
            throw ConfigError(g.source, "accounts", "invalid account name \"" + acc.name + "\"");
    }

    // Resolve account authorities and balances.
    auto account_instance = [&](const std::string& name) -> std::optional<std::uint64_t> {
        for (std::size_t i = 0; i < std::size(kReservedAccounts); ++i)
            if (kReservedAccounts[i] == name) return i;
        for (std::size_t i = 0; i < g.accounts.size(); ++i)
            if (g.accounts[i].name == name) return kFirstGenesisAccount + i;
        return std::nullopt;
    };
    for (const auto& pa : pending_auths) {
        auto id = account_instance(pa.name);
        if (!id) throw ConfigError(pa.source, pa.key_path, "unknown account \"" + pa.name + "\"");
        auto& auth = pa.owner ? g.accounts[pa.account_index].owner : g.accounts[pa.account_index].active;
        auth.account_auths.items.push_back({protocol::AccountId{*id}, pa.weight});
        auth.account_auths.normalize();
    }
    for (auto& acc : g.accounts) {
        for (const auto* auth : {&acc.owner, &acc.active}) {
            std::uint64_t total = 0;
            for (auto& [k, w] : auth->key_auths.items) total += w;
            for (auto& [k, w] : auth->account_auths.items) total += w;
            if (total < auth->weight_threshold)
                throw ConfigError(g.source, "accounts",
                                  "account \"" + acc.name + "\": authority weights cannot reach the threshold");
        }
        for (auto& [symbol, units] : acc.balances) {
            auto sep = symbol.find('\x01');
            std::string sym = symbol.substr(0, sep);
            const GenesisAsset* asset = nullptr;
            for (const auto& a : g.assets)
                if (a.symbol == sym) asset = &a;
            if (!asset)
                throw ConfigError(g.source, "accounts", "account \"" + acc.name + "\": unknown asset \"" + sym + "\"");
            if (sep != std::string::npos) {
                std::string text = symbol.substr(sep + 1);
                auto v = parse_decimal_amount(text, asset->precision);
                if (!v)
                    throw ConfigError(g.source, "accounts",
                                      "account \"" + acc.name + "\": bad " + sym + " amount \"" + text +
                                          "\" (at most " + std::to_string(asset->precision) + " decimals)");
                units = *v;
            }
            symbol = sym;
        }
    }
    for (const auto& a : g.assets) {
        if (!account_instance(a.issuer))
            throw ConfigError(g.source, "assets", "asset " + a.symbol + ": unknown issuer \"" + a.issuer + "\"");
        // Supply check: the genesis may not hand out more than max_supply.
        __int128 total = 0;
        for (const auto& acc : g.accounts)
            for (const auto& [sym, units] : acc.balances)
                if (sym == a.symbol) total += units;
        if (total > a.max_supply)
            throw ConfigError(g.source, "assets", "asset " + a.symbol + ": genesis balances exceed max_supply");
    }
    return g;
}

Genesis Genesis::load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path.string(), "", "cannot read genesis file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path.string());
}

std::string_view Genesis::built_in_text() {
    return kDefaultGenesisText;
}

Genesis Genesis::built_in() {
    return parse(kDefaultGenesisText, "<built-in genesis-dev.toml>");
}

}  // namespace bts::devnet
