// Hash functions used by Graphene (SHA-256, SHA-512, RIPEMD-160, SHA-224), hex and base58.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bts::crypto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using Sha256 = std::array<std::uint8_t, 32>;
using Sha512 = std::array<std::uint8_t, 64>;
using Sha224 = std::array<std::uint8_t, 28>;
using Ripemd160 = std::array<std::uint8_t, 20>;

[[nodiscard]] Sha256 sha256(ByteView data);
[[nodiscard]] Sha256 sha256(std::string_view data);
// SHA-256 over the concatenation a || b, without copying (signing digest = chain id || tx).
[[nodiscard]] Sha256 sha256(ByteView a, ByteView b);
[[nodiscard]] Sha512 sha512(ByteView data);
[[nodiscard]] Sha224 sha224(ByteView data);
[[nodiscard]] Ripemd160 ripemd160(ByteView data);

// Lower-case hex.
[[nodiscard]] std::string to_hex(ByteView data);
// Accepts upper and lower case; nullopt on odd length or a non-hex character.
[[nodiscard]] std::optional<Bytes> from_hex(std::string_view hex);
// Fixed-size variant: nullopt unless the hex decodes to exactly N bytes.
template <std::size_t N>
[[nodiscard]] std::optional<std::array<std::uint8_t, N>> from_hex_fixed(std::string_view hex) {
    if (hex.size() != 2 * N) return std::nullopt;
    auto bytes = from_hex(hex);
    if (!bytes) return std::nullopt;
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
    return out;
}

// Bitcoin alphabet base58.
[[nodiscard]] std::string base58_encode(ByteView data);
[[nodiscard]] std::optional<Bytes> base58_decode(std::string_view text);

// Allocation-free base58 for fixed-size payloads (keys, WIF). Upper bound of the encoded length:
constexpr std::size_t base58_max_chars(std::size_t bytes) { return bytes * 138 / 100 + 1; }
// Encodes into `out` (at least base58_max_chars(data.size()) long); returns the length used.
std::size_t base58_encode_into(ByteView data, std::span<char> out);
// Decodes into `out`; returns the decoded length, nullopt on a non-base58 character or a value
// longer than out.size(). On failure `out` holds garbage (callers decoding secrets wipe it).
[[nodiscard]] std::optional<std::size_t> base58_decode_into(std::string_view text,
                                                            std::span<std::uint8_t> out);

}  // namespace bts::crypto
