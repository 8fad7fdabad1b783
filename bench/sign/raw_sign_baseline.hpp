// Baseline for the signing benchmark: bare libsecp256k1 signatures/s with fc's canonical retry
// loop.
//
// Full transaction signing (serialize + sha256(chain_id || tx) + bts::crypto sign_compact) is
// printed next to this figure, measured in the same run on the same machine, so the cost of our
// own layers shows as the gap between the two. Header-only: it is the benchmark's reference, so
// it deliberately bypasses bts::crypto's signer (only its sha256 is used, to make the digests).
#pragma once

#include "common/crypto/hash.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace bts::bench {

struct RawSignBaseline {
    double signatures_per_second = 0;
    double mean_tries = 0;  // nonces per canonical signature (expected ~2)
    std::uint64_t signatures = 0;
};

namespace detail {

// fc's nonce function: RFC6979 output #(++counter); see src/common/crypto/keys.cpp.
inline int raw_fc_nonce(unsigned char* nonce32, const unsigned char* msg32,
                        const unsigned char* key32, const unsigned char*, void* data,
                        unsigned int) {
    auto* counter = static_cast<unsigned int*>(data);
    ++*counter;
    return secp256k1_nonce_function_rfc6979(nonce32, msg32, key32, nullptr, nullptr, *counter);
}

inline bool raw_is_canonical(const unsigned char* c64) {
    return !(c64[0] & 0x80) && !(c64[0] == 0 && !(c64[1] & 0x80)) && !(c64[32] & 0x80) &&
           !(c64[32] == 0 && !(c64[33] & 0x80));
}

}  // namespace detail

// Signs distinct digests (sha256 of a counter, <1% of the time) for about `seconds` on the
// calling thread. The key is sha256("nathan"), the well-known dev key.
inline RawSignBaseline raw_sign_baseline(double seconds) {
    using Clock = std::chrono::steady_clock;
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    // Blinded like bts::crypto::Context (the seed's value does not change the cost).
    const auto seed = crypto::sha256(std::string_view("raw_sign_baseline"));
    if (secp256k1_context_randomize(ctx, seed.data()) != 1) {
        // Only unblinded then; signing costs the same.
    }
    const auto secret = crypto::sha256(std::string_view("nathan"));

    RawSignBaseline result;
    std::uint64_t tries = 0;
    std::uint64_t n = 0;
    unsigned char compact[64];  // the opaque library calls cannot be optimised away
    const auto start = Clock::now();
    const auto deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    auto now = start;
    do {
        // Check the clock every 64 signatures (~2 ms): negligible either way, but cheaper.
        for (int batch = 0; batch < 64; ++batch, ++n) {
            const auto digest = crypto::sha256(
                crypto::ByteView(reinterpret_cast<const std::uint8_t*>(&n), sizeof n));
            unsigned int counter = 0;
            secp256k1_ecdsa_recoverable_signature sig;
            int recid = 0;
            do {
                ++tries;
                if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest.data(), secret.data(),
                                                      detail::raw_fc_nonce, &counter)) {
                    break;  // cannot happen with a valid key; avoids spinning if it ever did
                }
                secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact, &recid, &sig);
            } while (!detail::raw_is_canonical(compact));
        }
        now = Clock::now();
    } while (now < deadline);
    secp256k1_context_destroy(ctx);

    const double elapsed = std::chrono::duration<double>(now - start).count();
    result.signatures = n;
    result.signatures_per_second = elapsed > 0 ? static_cast<double>(n) / elapsed : 0;
    result.mean_tries = n > 0 ? static_cast<double>(tries) / static_cast<double>(n) : 0;
    return result;
}

// Canonical fc-compatible signatures per second on one core, bare libsecp256k1.
inline double raw_sign_baseline_per_second(double seconds) {
    return raw_sign_baseline(seconds).signatures_per_second;
}

}  // namespace bts::bench

// The benchmark's main may call it unqualified.
using bts::bench::raw_sign_baseline_per_second;
