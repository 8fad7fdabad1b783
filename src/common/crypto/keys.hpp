// secp256k1 keys and signatures as Graphene uses them: WIF, prefixed public key strings,
// addresses, fc-canonical compact recoverable signatures and public-key recovery.
//
// Rules (see shared/graphene-protocol.md §5, §6):
//  - public key string = PREFIX + base58(pub33 || ripemd160(pub33)[0:4]), any prefix (BTS, TEST, GPH…)
//  - address = PREFIX + base58(a || ripemd160(a)[0:4]), a = ripemd160(sha512(pub33))
//  - WIF = base58(0x80 || secret || sha256(sha256(0x80||secret))[0:4]); single-sha256 checksum accepted
//  - signature = [31 + recid][r:32][s:32], fc-canonical, nonce = RFC6979 output #k for k = 1, 2, …
//    (byte-identical to fc::ecc::private_key::sign_compact)
#pragma once

#include "common/crypto/hash.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct secp256k1_context_struct;

namespace bts::crypto {

using PublicKeyBytes = std::array<std::uint8_t, 33>;
using Signature = std::array<std::uint8_t, 65>;
using AddressBytes = Ripemd160;

// A compressed secp256k1 public key. Value type; ordering is by *address* bytes, as fc's
// public_key_type::operator< — which is what flat_set/flat_map<public_key_type> sort by.
class PublicKey {
public:
    PublicKey() = default;
    explicit PublicKey(const PublicKeyBytes& bytes) : bytes_(bytes) {}

    const PublicKeyBytes& bytes() const { return bytes_; }
    // PREFIX + base58(pub33 || checksum4).
    std::string to_string(std::string_view prefix = "BTS") const;
    // Parses "<PREFIX><base58>", checking the checksum. The prefix is whatever precedes the
    // 50-ish base58 characters; pass expected_prefix to enforce one. nullopt on any error.
    static std::optional<PublicKey> from_string(std::string_view text,
                                                std::string_view expected_prefix = {});
    // Same, returning why it failed (for error messages; never contains secrets).
    static std::optional<PublicKey> parse(std::string_view text, std::string* error,
                                          std::string_view expected_prefix = {});
    // ripemd160(sha512(pub33)).
    AddressBytes address() const;
    std::string address_string(std::string_view prefix = "BTS") const;

    friend bool operator==(const PublicKey&, const PublicKey&) = default;
    // fc order: by address bytes.
    friend bool address_less(const PublicKey& a, const PublicKey& b);

private:
    PublicKeyBytes bytes_{};
};

// fc's public_key_type order: by address bytes (what sorted key_auths use).
[[nodiscard]] bool address_less(const PublicKey& a, const PublicKey& b);

// Parse an address string "<PREFIX><base58(a||checksum)>".
[[nodiscard]] std::optional<AddressBytes> parse_address(std::string_view text,
                                                        std::string_view expected_prefix = {});
[[nodiscard]] std::string address_to_string(const AddressBytes& a, std::string_view prefix = "BTS");

// Shared libsecp256k1 context (sign + verify). Create once per thread or share read-only:
// libsecp256k1 contexts are safe to use concurrently after creation/randomization.
class Context {
public:
    Context();
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    secp256k1_context_struct* get() const { return ctx_; }

private:
    secp256k1_context_struct* ctx_;
};

// A 32-byte secret. Wiped on destruction; never printed (no to_string; WIF export is explicit).
class PrivateKey {
public:
    PrivateKey() = default;
    ~PrivateKey();
    PrivateKey(const PrivateKey&);
    PrivateKey& operator=(const PrivateKey&);

    // nullopt if the 32 bytes are not a valid secp256k1 secret (0 or >= n).
    static std::optional<PrivateKey> from_bytes(const Context& ctx, const std::array<std::uint8_t, 32>& secret);
    // Accepts double- and single-sha256 checksums. The error text never includes the input.
    static std::optional<PrivateKey> from_wif(const Context& ctx, std::string_view wif,
                                              std::string* error = nullptr);
    // sha256(seed) as secret (fc::ecc::private_key::regenerate(sha256::hash(seed))), e.g. "nathan".
    static PrivateKey from_seed(const Context& ctx, std::string_view seed);
    // Fresh random key from the OS CSPRNG.
    static PrivateKey generate(const Context& ctx);

    std::string to_wif() const;
    const std::array<std::uint8_t, 32>& secret() const { return secret_; }
    const PublicKey& public_key() const { return public_; }

    // fc-compatible canonical compact signature over a 32-byte digest. `tries`, if given,
    // receives how many nonces were needed (>= 1).
    [[nodiscard]] Signature sign_compact(const Context& ctx, const Sha256& digest,
                                         int* tries = nullptr) const;

private:
    std::array<std::uint8_t, 32> secret_{};
    PublicKey public_;
};

// fc's is_canonical on the 65-byte signature.
[[nodiscard]] bool is_canonical(const Signature& sig);

// Recover the signer of `digest`. nullopt for a bad header byte (not in [27,35)) or a
// signature that does not recover. With require_canonical, a non-canonical one is refused too.
[[nodiscard]] std::optional<PublicKey> recover(const Context& ctx, const Signature& sig,
                                               const Sha256& digest, bool require_canonical = true);

// Overwrite memory in a way the optimiser cannot drop.
void secure_wipe(void* data, std::size_t size);

}  // namespace bts::crypto
