// Transactions: layout, packed bytes, id, signing digest, TaPoS, signing and signer recovery.
// See shared/graphene-protocol.md §2, §5, §7.
#pragma once

#include "common/protocol/operations.hpp"

#include <span>

namespace bts::protocol {

using ChainId = crypto::Sha256;

struct Transaction {
    std::uint16_t ref_block_num = 0;
    std::uint32_t ref_block_prefix = 0;
    TimePointSec expiration;
    std::vector<Operation> operations;
    FutureExtensions extensions;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        v("ref_block_num", s.ref_block_num);
        v("ref_block_prefix", s.ref_block_prefix);
        v("expiration", s.expiration);
        v("operations", s.operations);
        v("extensions", s.extensions);
    }
    friend bool operator==(const Transaction&, const Transaction&) = default;
};

struct SignedTransaction : Transaction {
    std::vector<Signature> signatures;

    template <class Self, class V>
    static void fields(Self& s, V& v) {
        Transaction::fields(s, v);
        v("signatures", s.signatures);
    }
    friend bool operator==(const SignedTransaction&, const SignedTransaction&) = default;
};

// Unsigned packed bytes (what the id and the signature cover; what maximum_transaction_size limits).
[[nodiscard]] Bytes pack_unsigned(const Transaction& tx);
// Signed packed bytes (unsigned bytes + varint(n) + n * 65).
[[nodiscard]] Bytes pack_signed(const SignedTransaction& tx);
// Parse signed or unsigned bytes; throws ProtocolError naming the field.
[[nodiscard]] SignedTransaction unpack_signed(std::span<const std::uint8_t> bytes);
[[nodiscard]] Transaction unpack_unsigned(std::span<const std::uint8_t> bytes);

// First 20 bytes of sha256(unsigned bytes).
[[nodiscard]] TransactionId transaction_id(std::span<const std::uint8_t> unsigned_bytes);
[[nodiscard]] TransactionId transaction_id(const Transaction& tx);
// sha256(chain_id || unsigned bytes).
[[nodiscard]] crypto::Sha256 signing_digest(const ChainId& chain_id, std::span<const std::uint8_t> unsigned_bytes);
[[nodiscard]] crypto::Sha256 signing_digest(const ChainId& chain_id, const Transaction& tx);

// TaPoS fields from a block id (ref_block_num = block_num & 0xffff; prefix = LE uint32 of id[4..8]).
struct Tapos {
    std::uint16_t ref_block_num = 0;
    std::uint32_t ref_block_prefix = 0;
};
[[nodiscard]] Tapos tapos_from_block_id(const BlockId& id);
// Block number embedded (big-endian) in the first 4 bytes of a block id.
[[nodiscard]] std::uint32_t block_num_from_id(const BlockId& id);
inline void set_reference_block(Transaction& tx, const BlockId& id) {
    auto t = tapos_from_block_id(id);
    tx.ref_block_num = t.ref_block_num;
    tx.ref_block_prefix = t.ref_block_prefix;
}

// Appends one fc-canonical signature per key (in order) over the signing digest. Returns the digest.
crypto::Sha256 sign(SignedTransaction& tx, const ChainId& chain_id,
                    std::span<const crypto::PrivateKey* const> keys, const crypto::Context& ctx);

// Recovers the signer of each signature. Throws ProtocolError("signatures[i]", ...) for a
// signature that does not recover or is not canonical.
[[nodiscard]] std::vector<PublicKey> recover_signers(const SignedTransaction& tx, const ChainId& chain_id,
                                                     const crypto::Context& ctx);

}  // namespace bts::protocol
