// bts-devnet: chain objects in the node's JSON shapes (database_api results), field order as
// bitshares-core's FC_REFLECT.
#pragma once

#include "actors/devnet/chain.hpp"

#include <chrono>
#include <optional>

namespace bts::devnet {

// int64 as the node emits it: a number within int32 range, else a string.
[[nodiscard]] Json int64_to_json(std::int64_t v);
[[nodiscard]] Json asset_to_json(const protocol::Asset& a);
[[nodiscard]] Json price_to_json(const protocol::Price& p);
[[nodiscard]] Json authority_to_json(const protocol::Authority& a, const std::string& prefix);

[[nodiscard]] Json account_to_json(const Chain& chain, std::uint64_t instance);        // 1.2.x
[[nodiscard]] Json asset_object_to_json(const Chain& chain, std::uint64_t instance);   // 1.3.x
[[nodiscard]] Json asset_dynamic_to_json(const Chain& chain, std::uint64_t instance);  // 2.3.x
[[nodiscard]] Json order_to_json(const LimitOrder& order);                            // 1.7.x
// 2.1.0; block_interval is reported in whole seconds (at least 1).
[[nodiscard]] Json dynamic_global_properties_to_json(const Chain& chain, std::chrono::milliseconds block_interval);
[[nodiscard]] Json global_properties_to_json(const Chain& chain, std::chrono::milliseconds block_interval);  // 2.0.0
[[nodiscard]] Json chain_properties_to_json(const Chain& chain);                                            // 2.11.0
[[nodiscard]] Json config_to_json(const Chain& chain);  // get_config (GRAPHENE_* constants)
[[nodiscard]] Json fee_schedule_to_json(const FeeSchedule& fees);

// Any object id get_objects supports ("2.0.0", "2.1.0", "1.2.x", "1.3.x", "2.3.x", "1.7.x");
// null for unknown ones.
[[nodiscard]] Json object_to_json(const Chain& chain, std::string_view id, std::chrono::milliseconds block_interval);

// A processed_transaction: the signed transaction plus "operation_results": [] (cleared, as in
// blocks produced since 2021).
[[nodiscard]] Json processed_transaction_to_json(const protocol::SignedTransaction& tx, const std::string& prefix);
[[nodiscard]] Json block_header_to_json(const Block& b, bool with_signature);
[[nodiscard]] Json block_to_json(const Block& b, const std::string& prefix);
// broadcast_transaction_with_callback / _synchronous confirmation.
[[nodiscard]] Json confirmation_to_json(const PendingTx& tx, std::uint32_t block_num, std::uint32_t trx_num,
                                        const std::string& prefix);

}  // namespace bts::devnet
