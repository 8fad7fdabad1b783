// Fuzz target: transaction decode as `bts-tx decode` does it (packed bytes → transaction → JSON);
// what decodes must re-pack to bytes that decode to the same JSON.
#include "common/protocol/json.hpp"
#include "common/protocol/transaction.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    try {
        const auto tx = bts::protocol::unpack_signed(bytes);
        const auto json = bts::protocol::to_json(tx);
        const auto packed = bts::protocol::pack_signed(tx);
        const auto again = bts::protocol::unpack_signed(packed);
        if (bts::protocol::to_json(again) != json) std::abort();  // pack/unpack must round-trip
    } catch (const bts::protocol::ProtocolError&) {
    }
    try {
        (void)bts::protocol::to_json(bts::protocol::unpack_unsigned(bytes));
    } catch (const bts::protocol::ProtocolError&) {
    }
    return 0;
}
