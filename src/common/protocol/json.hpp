// The node's JSON form of transactions and operations (what broadcast_transaction takes and
// get_block returns): operations as [tag, {...}], times without "Z", int64 as number or string,
// keys as prefixed strings. Parsing names the path of any bad field.
#pragma once

#include "common/protocol/transaction.hpp"

#include <nlohmann/json_fwd.hpp>

namespace bts::protocol {

using Json = nlohmann::ordered_json;

struct JsonOptions {
    // Prefix for public keys and addresses on output; on input, keys must carry it unless empty.
    std::string key_prefix = "BTS";
    bool require_prefix_on_input = false;
};

// Output: emits int64/uint64 outside the int32/uint32 range as strings, as the node does.
[[nodiscard]] Json to_json(const Transaction& tx, const JsonOptions& opt = {});
[[nodiscard]] Json to_json(const SignedTransaction& tx, const JsonOptions& opt = {});
[[nodiscard]] Json to_json(const Operation& op, const JsonOptions& opt = {});

// Input: missing keys take defaults and unknown keys are ignored (as fc does), but every present
// value must have the right type and range. Throws ProtocolError with a path such as
// `operations[0][1].amount.asset_id`.
[[nodiscard]] SignedTransaction signed_transaction_from_json(const Json& j, const JsonOptions& opt = {});
[[nodiscard]] Transaction transaction_from_json(const Json& j, const JsonOptions& opt = {});
[[nodiscard]] Operation operation_from_json(const Json& j, const JsonOptions& opt = {});

// Compact JSON text of a signed transaction — what the load generator pre-builds per transaction.
[[nodiscard]] std::string to_json_text(const SignedTransaction& tx, const JsonOptions& opt = {});

}  // namespace bts::protocol
