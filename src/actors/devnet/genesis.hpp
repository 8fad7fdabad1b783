// bts-devnet genesis: the TOML file that defines a devnet chain (assets, accounts and their keys
// and balances, chain parameters, fee schedule). The chain id is sha256 of the file's bytes, as
// for a bitshares-core private chain started with --genesis-json.
//
// File format (see config/genesis-dev.toml, the documented default):
//
//   [chain]
//   address_prefix   = "BTS"           # GRAPHENE_ADDRESS_PREFIX reported by get_config
//   witness_key_seed = "nathan"        # blocks are signed by sha256(seed) (dev key; never logged)
//
//   [parameters]                       # chain_parameters (defaults = bitshares-core defaults)
//   maximum_transaction_size = 2048    # unsigned packed bytes
//   maximum_block_size = 2000000
//   maximum_time_until_expiration = 86400
//   max_authority_depth = 2
//
//   [fees]                             # fee_schedule in core base units; scale 10000 = 100%
//   scale = 10000
//   transfer = { fee = 2000000, price_per_kbyte = 1000000 }
//   limit_order_create = { fee = 500000 }
//   limit_order_cancel = { fee = 0 }
//   <any other operation name> = { fee = N, ... }   # reported by get_global_properties
//
//   [[assets]]                         # the first is the core asset 1.3.0, then 1.3.1, ...
//   symbol = "BTS"
//   precision = 5
//   issuer = "committee-account"       # an account name
//   max_supply = 1000000000000000      # base units
//   core_exchange_rate = { asset = 10000, core = 100000 }  # non-core: fee conversion rate
//   fee_pool = 10000000000000          # non-core: core units available to convert fees
//   description = "..."
//
//   [[accounts]]                       # 1.2.0-1.2.5 are reserved; these follow from 1.2.6 in order
//   name = "nathan"
//   key = "BTS6MRy..."                 # owner = active = memo key, weight 1, threshold 1; or:
//   owner_key = "BTS..."  active_key = "BTS..."  memo_key = "BTS..."
//   active = { weight_threshold = 2, keys = [{ key = "BTS...", weight = 1 }],
//              accounts = [{ account = "nathan", weight = 1 }] }        # full authority form
//   balances = { BTS = 100000000, USD = "12.5" }   # integer = base units, string = decimal
//
//   [[accounts]]                       # an entry with `prefix` is a range (keys below)
//   prefix = "init"  count = 11  key_seed = "nathan"
//
//   [[account_ranges]]                 # many accounts with deterministic keys
//   prefix = "stress-"                 # names stress-0 ... stress-<count-1>
//   count = 200
//   key_seed_prefix = "bts-stress-devnet:stress-"   # key i = PrivateKey::from_seed(prefix + i)
//   key_seed = "nathan"                # alternatively: one seed for every account of the range
//   balances = { BTS = 1000000000000 }
//
// Accounts are numbered from 1.2.6 in file order of the [[accounts]] entries (single accounts
// and ranges), then every [[account_ranges]] entry.
#pragma once

#include "common/protocol/types.hpp"
#include "common/protocol/transaction.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bts::devnet {

namespace protocol = bts::protocol;

// chain_parameters the devnet enforces or reports (bitshares-core defaults).
struct ChainParameters {
    std::uint32_t maximum_transaction_size = 2048;
    std::uint32_t maximum_block_size = 2000000;
    std::uint32_t maximum_time_until_expiration = 86400;
    std::uint8_t max_authority_depth = 2;
};

// One fee_parameters entry: the named integer fields of that operation's fee struct, in the
// order written ("fee", "price_per_kbyte", "basic_fee", ...).
struct FeeParameters {
    std::vector<std::pair<std::string, std::int64_t>> fields;
    [[nodiscard]] std::int64_t get(std::string_view name, std::int64_t fallback = 0) const;
};

struct FeeSchedule {
    std::map<std::uint32_t, FeeParameters> parameters;  // by operation tag
    std::uint32_t scale = 10000;                         // GRAPHENE_100_PERCENT
    // bitshares-core genesis defaults for the operations the devnet evaluates.
    static FeeSchedule defaults();
};

struct GenesisAsset {
    std::string symbol;
    std::uint8_t precision = 5;
    std::string issuer;  // account name
    std::int64_t max_supply = 1000000000000000LL;
    std::string description;
    // core_exchange_rate = price{base: cer_asset of this asset, quote: cer_core of 1.3.0}.
    std::int64_t cer_asset = 1;
    std::int64_t cer_core = 1;
    std::int64_t fee_pool = 0;
};

struct GenesisAccount {
    std::string name;
    protocol::Authority owner;
    protocol::Authority active;
    protocol::PublicKey memo_key;
    // Symbol → base units; resolved against the asset list when the chain starts.
    std::vector<std::pair<std::string, std::int64_t>> balances;
};

struct Genesis {
    std::string source = "<built-in>";  // file name, for messages
    protocol::ChainId chain_id{};        // sha256 of the file bytes
    std::string address_prefix = "BTS";
    std::string witness_key_seed = "nathan";
    ChainParameters parameters;
    FeeSchedule fees;
    std::vector<GenesisAsset> assets;      // [0] = core asset
    std::vector<GenesisAccount> accounts;  // become 1.2.6, 1.2.7, ...

    // Parses genesis TOML. `text` must be the exact file bytes: the chain id is their sha256.
    // Throws util::ConfigError naming source, key and reason.
    static Genesis parse(std::string_view text, std::string source);
    // Reads and parses a file. Throws util::ConfigError.
    static Genesis load(const std::filesystem::path& path);
    // The default genesis compiled into the program (config/genesis-dev.toml at build time).
    static Genesis built_in();
    static std::string_view built_in_text();
};

// Names and ids of the reserved accounts every Graphene chain has (1.2.0 - 1.2.5).
inline constexpr std::string_view kReservedAccounts[] = {
    "committee-account", "witness-account",   "relaxed-committee-account",
    "null-account",      "temp-account",      "proxy-to-self"};
inline constexpr std::uint64_t kFirstGenesisAccount = 6;

// "123", "12.5" → base units at `precision`; nullopt on bad text, too many decimals or overflow.
[[nodiscard]] std::optional<std::int64_t> parse_decimal_amount(std::string_view text, std::uint8_t precision);

// Operation tag for a name such as "transfer"; nullopt if unknown.
[[nodiscard]] std::optional<std::uint32_t> op_tag_for_name(std::string_view name);

}  // namespace bts::devnet
