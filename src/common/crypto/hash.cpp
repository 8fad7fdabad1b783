// Hash functions on OpenSSL (allocation-free SHA-256, cached EVP digests otherwise), hex, base58.
#include "common/crypto/hash.hpp"

#include <openssl/evp.h>
#include <openssl/ripemd.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bts::crypto {

namespace {

enum Algo { kSha256 = 0, kSha512, kSha224, kRipemd160, kAlgoCount };

// Fetched once per process. Fetching per call (which is what OpenSSL 3's one-shot SHA256()
// does through EVP_Q_digest) takes a global lock and a hash-table lookup: measurably slower
// on the signing hot path. The EVP_MDs are deliberately never freed: freeing them from a
// static destructor could run after OpenSSL's own atexit cleanup.
struct Algorithms {
    EVP_MD* md[kAlgoCount] = {};
    // RIPEMD-160 lives in OpenSSL 3's legacy provider before 3.0.7; then we use the
    // (deprecated but always present) low-level RIPEMD160() instead.
    bool ripemd_low_level = false;

    Algorithms() {
        md[kSha256] = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        md[kSha512] = EVP_MD_fetch(nullptr, "SHA512", nullptr);
        md[kSha224] = EVP_MD_fetch(nullptr, "SHA224", nullptr);
        md[kRipemd160] = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
        ripemd_low_level = md[kRipemd160] == nullptr;
        // Without SHA-2 nothing in this program can work; failing loudly beats wrong hashes.
        if (!md[kSha256] || !md[kSha512] || !md[kSha224]) std::abort();
    }
};

const Algorithms& algorithms() {
    static const Algorithms algos;
    return algos;
}

// One context per algorithm and thread, so no EVP_MD_CTX is allocated per call (OpenSSL 3.0
// still allocates the provider state on every init, see sha256 below). Freed at thread exit
// (before OpenSSL's atexit cleanup on the main thread).
struct ThreadContexts {
    EVP_MD_CTX* ctx[kAlgoCount] = {};
    ~ThreadContexts() {
        for (auto* c : ctx) EVP_MD_CTX_free(c);
    }
};

EVP_MD_CTX* thread_context(Algo algo) {
    thread_local ThreadContexts contexts;
    EVP_MD_CTX*& ctx = contexts.ctx[algo];
    if (ctx == nullptr) {
        ctx = EVP_MD_CTX_new();
        if (ctx == nullptr) std::abort();
    }
    return ctx;
}

// Hash of up to two buffers into `out`, which must be EVP_MD_size(md) long.
void digest2(Algo algo, ByteView a, ByteView b, std::uint8_t* out) {
    EVP_MD_CTX* ctx = thread_context(algo);
    const EVP_MD* md = algorithms().md[algo];
    unsigned int len = 0;
    // A failure here means a broken OpenSSL install (or out of memory): never a bad input.
    if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1) std::abort();
    if (!a.empty() && EVP_DigestUpdate(ctx, a.data(), a.size()) != 1) std::abort();
    if (!b.empty() && EVP_DigestUpdate(ctx, b.data(), b.size()) != 1) std::abort();
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1) std::abort();
}

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr char kBase58Alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// -1 for characters outside the alphabet (0, O, I, l, and everything non-alphanumeric).
constexpr auto kBase58Values = [] {
    std::array<std::int8_t, 256> values{};
    for (auto& v : values) v = -1;
    for (int i = 0; i < 58; ++i)
        values[static_cast<unsigned char>(kBase58Alphabet[i])] = static_cast<std::int8_t>(i);
    return values;
}();

}  // namespace

// SHA-256 is on the signing hot path. In OpenSSL 3.0 every EVP_DigestInit* frees and re-creates
// the provider context (one malloc per hash, even on a reused EVP_MD_CTX), and one-shot SHA256()
// goes through EVP_Q_digest (fetch + 3 mallocs). Measured on this machine, 100-byte inputs:
// low-level 117 ns, EVP with cached MD and reused ctx 149 ns, SHA256() 436 ns. So the low-level
// API is used while OpenSSL still ships it (deprecated in 3.0, not removed), EVP otherwise.
#if !defined(OPENSSL_NO_DEPRECATED_3_0)
#define BTS_SHA256_LOW_LEVEL 1
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
namespace {
void sha256_low_level(ByteView a, ByteView b, std::uint8_t* out) {
    SHA256_CTX c;
    SHA256_Init(&c);
    if (!a.empty()) SHA256_Update(&c, a.data(), a.size());
    if (!b.empty()) SHA256_Update(&c, b.data(), b.size());
    SHA256_Final(out, &c);  // also cleanses the block buffer in `c`
}
}  // namespace
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif

Sha256 sha256(ByteView data) {
    Sha256 out;
#if defined(BTS_SHA256_LOW_LEVEL)
    sha256_low_level(data, {}, out.data());
#else
    digest2(kSha256, data, {}, out.data());
#endif
    return out;
}

Sha256 sha256(std::string_view data) {
    return sha256(ByteView(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

Sha256 sha256(ByteView a, ByteView b) {
    Sha256 out;
#if defined(BTS_SHA256_LOW_LEVEL)
    sha256_low_level(a, b, out.data());
#else
    digest2(kSha256, a, b, out.data());
#endif
    return out;
}

Sha512 sha512(ByteView data) {
    Sha512 out;
    digest2(kSha512, data, {}, out.data());
    return out;
}

Sha224 sha224(ByteView data) {
    Sha224 out;
    digest2(kSha224, data, {}, out.data());
    return out;
}

Ripemd160 ripemd160(ByteView data) {
    Ripemd160 out;
    if (!algorithms().ripemd_low_level) {
        digest2(kRipemd160, data, {}, out.data());
        return out;
    }
#if !defined(OPENSSL_NO_DEPRECATED_3_0)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    RIPEMD160(data.data(), data.size(), out.data());
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    return out;
#else
    // OpenSSL < 3.0.7 built without deprecated APIs: no RIPEMD-160 at all. Key strings cannot be
    // made or checked, and silently wrong ones would be worse than stopping.
    std::fputs("bts::crypto: this OpenSSL provides no RIPEMD-160\n", stderr);
    std::abort();
#endif
}

std::string to_hex(ByteView data) {
    std::string out(2 * data.size(), '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        out[2 * i] = kHexDigits[data[i] >> 4];
        out[2 * i + 1] = kHexDigits[data[i] & 0x0f];
    }
    return out;
}

std::optional<Bytes> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    Bytes out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return out;
}

std::size_t base58_encode_into(ByteView data, std::span<char> out) {
    std::size_t zeros = 0;
    while (zeros < data.size() && data[zeros] == 0) ++zeros;
    // `out` doubles as the work area: the base-58 digits of the number (values 0..57, most
    // significant first) grow right-aligned at its end, then move behind the leading '1's.
    const std::size_t cap = base58_max_chars(data.size());
    char* digits = out.data();
    std::size_t used = 0;
    for (std::size_t i = zeros; i < data.size(); ++i) {
        unsigned carry = data[i];
        std::size_t j = 0;
        for (std::size_t k = cap; k-- > 0 && (j < used || carry != 0); ++j) {
            carry += 256u * (j < used ? static_cast<unsigned char>(digits[k]) : 0u);
            digits[k] = static_cast<char>(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    std::memmove(out.data() + zeros, out.data() + cap - used, used);
    for (std::size_t i = 0; i < zeros; ++i) out[i] = '1';
    for (std::size_t i = zeros; i < zeros + used; ++i)
        out[i] = kBase58Alphabet[static_cast<unsigned char>(out[i])];
    return zeros + used;
}

std::optional<std::size_t> base58_decode_into(std::string_view text, std::span<std::uint8_t> out) {
    const std::size_t cap = out.size();
    std::size_t zeros = 0;
    while (zeros < text.size() && text[zeros] == '1') ++zeros;
    if (zeros > cap) return std::nullopt;
    // The number accumulates big-endian, right-aligned in `out`; `used` bytes are significant.
    std::size_t used = 0;
    for (std::size_t i = zeros; i < text.size(); ++i) {
        const int digit = kBase58Values[static_cast<unsigned char>(text[i])];
        if (digit < 0) return std::nullopt;
        unsigned carry = static_cast<unsigned>(digit);
        std::size_t j = 0;
        for (std::size_t k = cap; k-- > 0 && (j < used || carry != 0); ++j) {
            carry += 58u * (j < used ? out[k] : 0u);
            out[k] = static_cast<std::uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        if (carry != 0) return std::nullopt;  // does not fit in `out`
        used = j;
    }
    if (zeros + used > cap) return std::nullopt;
    // Move the number behind the leading zero bytes.
    std::memmove(out.data() + zeros, out.data() + cap - used, used);
    std::memset(out.data(), 0, zeros);
    return zeros + used;
}

std::string base58_encode(ByteView data) {
    std::string out(base58_max_chars(data.size()), '\0');
    out.resize(base58_encode_into(data, out));
    return out;
}

std::optional<Bytes> base58_decode(std::string_view text) {
    // A leading '1' is one zero byte; any other character carries less than 6 bits.
    Bytes out(text.size());
    const auto n = base58_decode_into(text, out);
    if (!n) return std::nullopt;
    out.resize(*n);
    return out;
}

}  // namespace bts::crypto
