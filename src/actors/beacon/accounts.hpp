// Signing accounts of a run: from a key file ("account-name WIF" per line, mode 0600), from keys
// inline in the run config (broker), or derived from the documented devnet seeds. Secrets never
// appear in errors or logs: a bad line is named by its number, never its content.
#pragma once

#include "actors/beacon/run_config.hpp"
#include "common/crypto/keys.hpp"
#include "common/util/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bts::beacon {

struct AccountKey {
    std::string name;
    crypto::PrivateKey key;  // wiped on destruction
};

// Seed of devnet account `name`'s key: PrivateKey::from_seed(devnet_seed(name)).
// Matches docs/devnet.md: "bts-stress-devnet:<name>".
[[nodiscard]] std::string devnet_seed(std::string_view name);

// "stress-0..stress-19" (or a single name, or names separated by commas) → keys from devnet_seed.
[[nodiscard]] util::Result<std::vector<AccountKey>> devnet_accounts(std::string_view spec,
                                                                    const crypto::Context& ctx);

// Lines "account-name WIF"; '#' starts a comment; blank lines are skipped. Errors name
// `source` and the line number. Duplicate names are refused.
[[nodiscard]] util::Result<std::vector<AccountKey>> parse_key_lines(std::string_view text,
                                                                    std::string_view source,
                                                                    const crypto::Context& ctx);

// Reads a key file after checking it is a regular file not readable by group or others.
[[nodiscard]] util::Result<std::vector<AccountKey>> load_key_file(const std::string& path,
                                                                  const crypto::Context& ctx);

// The accounts of a run config ("devnet:...", "file:...", "inline").
[[nodiscard]] util::Result<std::vector<AccountKey>> resolve_accounts(const RunConfig& config,
                                                                     const crypto::Context& ctx);

}  // namespace bts::beacon
