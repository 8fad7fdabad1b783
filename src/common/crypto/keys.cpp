// secp256k1 keys, WIF, prefixed key/address strings and fc-compatible compact signatures.
#include "common/crypto/keys.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/random.h>
#else
#include <openssl/rand.h>
#endif

namespace bts::crypto {

namespace {

constexpr std::uint8_t kWifVersion = 0x80;
constexpr std::size_t kWifBytes = 1 + 32 + 4;
constexpr std::size_t kWifChars = 51;
constexpr std::size_t kKeyPayloadBytes = 33 + 4;
constexpr std::size_t kAddressPayloadBytes = 20 + 4;
// base58 of 37 bytes starting 0x02/0x03 is always 50 characters: the usual prefix length is
// therefore text.size() - 50, tried first.
constexpr std::size_t kKeyBase58Chars = 50;
// Longer strings are refused before trying prefix splits (each split costs a base58 decode).
constexpr std::size_t kMaxPrefixedChars = 128;

// Fills `out` from the OS CSPRNG. Failure leaves no safe way to produce keys: abort.
void os_random(std::uint8_t* out, std::size_t size) {
#if defined(__linux__)
    while (size > 0) {
        const ssize_t n = getrandom(out, size, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::abort();
        }
        out += n;
        size -= static_cast<std::size_t>(n);
    }
#else
    if (RAND_priv_bytes(out, static_cast<int>(size)) != 1) std::abort();
#endif
}

// fc::ecc's extended_nonce_function: RFC6979 output #(++counter). fc starts the counter at 0
// and keeps it across its canonical-retry loop, so try k uses RFC6979 output #k (k = 1, 2, …).
// algo16 is passed as NULL as in fc's secp256k1-zkp (libsecp256k1's ECDSA passes NULL anyway).
int fc_nonce_function(unsigned char* nonce32, const unsigned char* msg32,
                      const unsigned char* key32, const unsigned char* /*algo16*/, void* data,
                      unsigned int /*attempt*/) {
    auto* counter = static_cast<unsigned int*>(data);
    ++*counter;
    return secp256k1_nonce_function_rfc6979(nonce32, msg32, key32, nullptr, nullptr, *counter);
}

// Keeps error messages on one line and bounded, whatever the caller passed.
std::string quoted_for_error(std::string_view text) {
    constexpr std::size_t kMax = 80;
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
        const char c = text[i];
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    if (text.size() > kMax) out += "...";
    out += '"';
    return out;
}

// True if `text` is a WIF with a valid checksum: used only to avoid echoing a secret that was
// pasted where a public key or address was expected.
bool looks_like_wif(std::string_view text) {
    std::array<std::uint8_t, kWifBytes> buf{};
    const auto n = base58_decode_into(text, buf);
    bool wif = false;
    if (n && *n == kWifBytes && buf[0] == kWifVersion) {
        const auto once = sha256(ByteView(buf.data(), 33));
        const auto twice = sha256(ByteView(once));
        wif = std::memcmp(twice.data(), buf.data() + 33, 4) == 0 ||
              std::memcmp(once.data(), buf.data() + 33, 4) == 0;
    }
    secure_wipe(buf.data(), buf.size());
    return wif;
}

enum class PayloadError { kNone, kCharacter, kLength, kChecksum };

bool is_prefix_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool all_base58(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        return is_prefix_char(c) && c != '0' && c != 'O' && c != 'I' && c != 'l';
    });
}

// Length of the leading run of ASCII letters: the prefix of any real public key string, since
// base58 of a 37-byte payload starting 0x02/0x03 always starts with a digit ('5'..'8').
std::size_t leading_letters(std::string_view text) {
    std::size_t n = 0;
    while (n < text.size() &&
           ((text[n] >= 'A' && text[n] <= 'Z') || (text[n] >= 'a' && text[n] <= 'z')))
        ++n;
    return n;
}

// Decodes base58(payload || ripemd160(payload)[0:4]) into `out` (payload + checksum).
template <std::size_t N>
PayloadError decode_payload(std::string_view text, std::array<std::uint8_t, N>& out) {
    const auto n = base58_decode_into(text, out);
    if (!n) {
        // Overflow of the buffer is a length problem, not a character problem.
        return all_base58(text) ? PayloadError::kLength : PayloadError::kCharacter;
    }
    if (*n != N) return PayloadError::kLength;
    const auto check = ripemd160(ByteView(out.data(), N - 4));
    return std::memcmp(check.data(), out.data() + N - 4, 4) == 0 ? PayloadError::kNone
                                                                 : PayloadError::kChecksum;
}

// Finds the split of PREFIX + base58 payload. The prefix is not delimited, so candidate lengths
// are tried, most likely first, and the first with a valid checksum wins (a wrong split passes
// the 32-bit checksum with probability 2^-32). Prefixes are non-empty ASCII alphanumerics.
// `preferred` are lengths to try first (0 = none). Returns the prefix length, 0 if none fits.
template <std::size_t N>
std::size_t find_prefixed(std::string_view text, std::string_view expected_prefix,
                          std::initializer_list<std::size_t> preferred,
                          std::array<std::uint8_t, N>& out) {
    if (text.size() > kMaxPrefixedChars) return 0;
    const std::size_t alnum = static_cast<std::size_t>(
        std::find_if_not(text.begin(), text.end(), is_prefix_char) - text.begin());
    auto fits = [&](std::size_t p) {
        if (p == 0 || p >= text.size() || p > alnum) return false;
        return decode_payload(text.substr(p), out) == PayloadError::kNone;
    };
    if (!expected_prefix.empty()) {
        if (text.substr(0, expected_prefix.size()) != expected_prefix) return 0;
        return fits(expected_prefix.size()) ? expected_prefix.size() : 0;
    }
    auto tried_first = [&](std::size_t p) {
        return std::find(preferred.begin(), preferred.end(), p) != preferred.end();
    };
    for (std::size_t p : preferred) {
        if (fits(p)) return p;
    }
    // 3, 4, 2, 5, 1, 6, 7, …: "BTS"/"GPH"/"STM" first, then "TEST", then the rest.
    static constexpr std::size_t kOrder[] = {3, 4, 2, 5, 1};
    for (std::size_t p : kOrder) {
        if (!tried_first(p) && fits(p)) return p;
    }
    for (std::size_t p = 6; p < text.size(); ++p) {
        if (!tried_first(p) && fits(p)) return p;
    }
    return 0;
}

// Why `text` is not PREFIX + valid payload, judged on the most plausible split: the expected
// prefix if given, else the leading letters.
template <std::size_t N>
std::string describe_failure(std::string_view text, std::string_view expected_prefix,
                             const char* what) {
    if (text.empty()) return "empty";
    if (text.size() > kMaxPrefixedChars) return "too long";
    if (!expected_prefix.empty() && text.substr(0, expected_prefix.size()) != expected_prefix) {
        return "expected prefix " + quoted_for_error(expected_prefix);
    }
    const std::size_t p = expected_prefix.empty() ? leading_letters(text) : expected_prefix.size();
    if (p == 0) return "missing prefix (such as BTS)";
    if (p >= text.size()) return "nothing after the prefix";
    std::array<std::uint8_t, N> out{};
    switch (decode_payload(text.substr(p), out)) {
        case PayloadError::kChecksum:
            return "bad checksum";
        case PayloadError::kLength:
            return std::string("wrong length (not ") + what + ")";
        case PayloadError::kCharacter:
            return "not base58 after the prefix";
        case PayloadError::kNone:
            break;
    }
    return "unrecognised prefix";
}

std::string encode_prefixed(std::string_view prefix, ByteView payload) {
    // payload || ripemd160(payload)[0:4], at most 37 bytes here.
    std::array<std::uint8_t, kKeyPayloadBytes> buf{};
    std::memcpy(buf.data(), payload.data(), payload.size());
    const auto check = ripemd160(payload);
    std::memcpy(buf.data() + payload.size(), check.data(), 4);
    std::array<char, base58_max_chars(kKeyPayloadBytes)> chars{};
    const std::size_t n = base58_encode_into(ByteView(buf.data(), payload.size() + 4), chars);
    std::string out;
    out.reserve(prefix.size() + n);
    out.append(prefix);
    out.append(chars.data(), n);
    return out;
}

bool derive_public_key(const Context& ctx, const std::array<std::uint8_t, 32>& secret,
                       PublicKeyBytes& out) {
    secp256k1_pubkey pub;
    if (!secp256k1_ec_pubkey_create(ctx.get(), &pub, secret.data())) return false;
    std::size_t len = out.size();
    secp256k1_ec_pubkey_serialize(ctx.get(), out.data(), &len, &pub, SECP256K1_EC_COMPRESSED);
    return true;
}

}  // namespace

void secure_wipe(void* data, std::size_t size) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
    explicit_bzero(data, size);
#else
    // Stores through a volatile pointer are observable behaviour: the optimiser keeps them.
    auto* p = static_cast<volatile std::uint8_t*>(data);
    for (std::size_t i = 0; i < size; ++i) p[i] = 0;
#endif
}

// ---------------------------------------------------------------------------------------------
// PublicKey

std::string PublicKey::to_string(std::string_view prefix) const {
    return encode_prefixed(prefix, bytes_);
}

std::optional<PublicKey> PublicKey::from_string(std::string_view text,
                                                std::string_view expected_prefix) {
    return parse(text, nullptr, expected_prefix);
}

std::optional<PublicKey> PublicKey::parse(std::string_view text, std::string* error,
                                          std::string_view expected_prefix) {
    std::array<std::uint8_t, kKeyPayloadBytes> payload{};
    const std::size_t usual = text.size() > kKeyBase58Chars ? text.size() - kKeyBase58Chars : 0;
    if (find_prefixed(text, expected_prefix, {usual, leading_letters(text)}, payload) != 0) {
        PublicKeyBytes bytes;
        std::memcpy(bytes.data(), payload.data(), bytes.size());
        return PublicKey(bytes);
    }
    if (error != nullptr) {
        if (looks_like_wif(text)) {
            *error = "public key expected, but a private key (WIF) was given; it is not shown";
        } else {
            *error = "public key " + quoted_for_error(text) + ": " +
                     describe_failure<kKeyPayloadBytes>(text, expected_prefix,
                                                        "a 33-byte key with checksum");
        }
    }
    return std::nullopt;
}

AddressBytes PublicKey::address() const {
    const auto wide = sha512(bytes_);
    return ripemd160(wide);
}

std::string PublicKey::address_string(std::string_view prefix) const {
    return address_to_string(address(), prefix);
}

bool address_less(const PublicKey& a, const PublicKey& b) {
    const auto aa = a.address();
    const auto bb = b.address();
    return std::memcmp(aa.data(), bb.data(), aa.size()) < 0;
}

std::optional<AddressBytes> parse_address(std::string_view text, std::string_view expected_prefix) {
    std::array<std::uint8_t, kAddressPayloadBytes> payload{};
    if (find_prefixed(text, expected_prefix, {}, payload) == 0) return std::nullopt;
    AddressBytes out;
    std::memcpy(out.data(), payload.data(), out.size());
    return out;
}

std::string address_to_string(const AddressBytes& a, std::string_view prefix) {
    return encode_prefixed(prefix, a);
}

// ---------------------------------------------------------------------------------------------
// Context

Context::Context() {
    // SIGN|VERIFY are no-ops since libsecp256k1 0.2 (all contexts can do both) but document intent.
    ctx_ = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    if (ctx_ == nullptr) std::abort();
    // Blinding of the signing multiplication against side channels.
    std::array<std::uint8_t, 32> seed;
    os_random(seed.data(), seed.size());
    const int ok = secp256k1_context_randomize(ctx_, seed.data());
    secure_wipe(seed.data(), seed.size());
    if (!ok) std::abort();
}

Context::~Context() {
    secp256k1_context_destroy(ctx_);
}

// ---------------------------------------------------------------------------------------------
// PrivateKey

PrivateKey::~PrivateKey() {
    secure_wipe(secret_.data(), secret_.size());
}

PrivateKey::PrivateKey(const PrivateKey& other) : secret_(other.secret_), public_(other.public_) {}

PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
    secret_ = other.secret_;
    public_ = other.public_;
    return *this;
}

std::optional<PrivateKey> PrivateKey::from_bytes(const Context& ctx,
                                                 const std::array<std::uint8_t, 32>& secret) {
    if (!secp256k1_ec_seckey_verify(ctx.get(), secret.data())) return std::nullopt;
    std::optional<PrivateKey> key(std::in_place);
    key->secret_ = secret;
    PublicKeyBytes pub;
    if (!derive_public_key(ctx, secret, pub)) return std::nullopt;
    key->public_ = PublicKey(pub);
    return key;
}

std::optional<PrivateKey> PrivateKey::from_wif(const Context& ctx, std::string_view wif,
                                               std::string* error) {
    // Every message below is fixed text: the input is secret and must never be echoed.
    auto fail = [&](const char* reason) -> std::optional<PrivateKey> {
        if (error != nullptr) *error = std::string("private key (WIF): ") + reason;
        return std::nullopt;
    };
    // 51 characters reach 38 bytes (more only with leading '1's): one spare byte for "too long".
    std::array<std::uint8_t, kWifBytes + 1> buf{};
    struct Wipe {
        std::array<std::uint8_t, kWifBytes + 1>& b;
        ~Wipe() { secure_wipe(b.data(), b.size()); }
    } wipe{buf};

    if (wif.empty()) return fail("empty");
    // 0x80 || 36 bytes lies in [2^295, 2^296): always 51 base58 characters. Checking this first
    // also keeps a truncated WIF from being reported as a "wrong version byte".
    if (wif.size() != kWifChars) return fail("wrong length (expected 51 characters)");
    const auto n = base58_decode_into(wif, buf);
    if (!n) return fail(all_base58(wif) ? "wrong length (expected 37 bytes)" : "not base58");
    if (*n != kWifBytes) return fail("wrong length (expected 37 bytes)");
    if (buf[0] != kWifVersion) return fail("wrong version byte (expected 0x80)");
    // fc's wif_to_key accepts sha256(sha256(x)) (standard) and sha256(x) (early Graphene tools).
    auto once = sha256(ByteView(buf.data(), 33));
    auto twice = sha256(ByteView(once));
    const bool ok = std::memcmp(twice.data(), buf.data() + 33, 4) == 0 ||
                    std::memcmp(once.data(), buf.data() + 33, 4) == 0;
    secure_wipe(once.data(), once.size());
    secure_wipe(twice.data(), twice.size());
    if (!ok) return fail("bad checksum");
    std::array<std::uint8_t, 32> secret;
    std::memcpy(secret.data(), buf.data() + 1, 32);
    auto key = from_bytes(ctx, secret);
    secure_wipe(secret.data(), secret.size());
    if (!key) return fail("secret out of range");
    return key;
}

PrivateKey PrivateKey::from_seed(const Context& ctx, std::string_view seed) {
    auto secret = sha256(seed);
    auto key = from_bytes(ctx, secret);
    secure_wipe(secret.data(), secret.size());
    // sha256 lands outside [1, n) with probability ~2^-128; fc asserts there too.
    if (!key) std::abort();
    return *key;
}

PrivateKey PrivateKey::generate(const Context& ctx) {
    std::array<std::uint8_t, 32> secret;
    for (;;) {
        os_random(secret.data(), secret.size());
        auto key = from_bytes(ctx, secret);
        if (key) {
            secure_wipe(secret.data(), secret.size());
            return *key;
        }
    }
}

std::string PrivateKey::to_wif() const {
    std::array<std::uint8_t, kWifBytes> buf;
    buf[0] = kWifVersion;
    std::memcpy(buf.data() + 1, secret_.data(), 32);
    auto once = sha256(ByteView(buf.data(), 33));
    auto twice = sha256(ByteView(once));
    std::memcpy(buf.data() + 33, twice.data(), 4);
    std::array<char, base58_max_chars(kWifBytes)> chars;
    const std::size_t n = base58_encode_into(buf, chars);
    std::string out(chars.data(), n);
    secure_wipe(buf.data(), buf.size());
    secure_wipe(chars.data(), chars.size());
    secure_wipe(once.data(), once.size());
    secure_wipe(twice.data(), twice.size());
    return out;
}

Signature PrivateKey::sign_compact(const Context& ctx, const Sha256& digest, int* tries) const {
    Signature sig{};
    unsigned int counter = 0;  // advanced by fc_nonce_function, kept across retries as in fc
    int attempts = 0;
    secp256k1_ecdsa_recoverable_signature rs;
    do {
        ++attempts;
        // Fails only for an invalid secret (a default-constructed key): return the all-zero
        // signature, whose header byte every verifier (and recover()) rejects.
        if (!secp256k1_ecdsa_sign_recoverable(ctx.get(), &rs, digest.data(), secret_.data(),
                                              fc_nonce_function, &counter)) {
            if (tries != nullptr) *tries = 0;
            return Signature{};
        }
        int recid = 0;
        secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx.get(), sig.data() + 1, &recid,
                                                                &rs);
        sig[0] = static_cast<std::uint8_t>(27 + 4 + recid);  // +4: compressed public key
    } while (!is_canonical(sig));
    if (tries != nullptr) *tries = attempts;
    return sig;
}

bool is_canonical(const Signature& c) {
    return !(c[1] & 0x80) && !(c[1] == 0 && !(c[2] & 0x80)) && !(c[33] & 0x80) &&
           !(c[33] == 0 && !(c[34] & 0x80));
}

std::optional<PublicKey> recover(const Context& ctx, const Signature& sig, const Sha256& digest,
                                 bool require_canonical) {
    if (sig[0] < 27 || sig[0] >= 35) return std::nullopt;
    if (require_canonical && !is_canonical(sig)) return std::nullopt;
    const int recid = (sig[0] - 27) & 3;
    secp256k1_ecdsa_recoverable_signature rs;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx.get(), &rs, sig.data() + 1,
                                                             recid)) {
        return std::nullopt;
    }
    secp256k1_pubkey pub;
    if (!secp256k1_ecdsa_recover(ctx.get(), &pub, &rs, digest.data())) return std::nullopt;
    PublicKeyBytes out;
    std::size_t len = out.size();
    secp256k1_ec_pubkey_serialize(ctx.get(), out.data(), &len, &pub, SECP256K1_EC_COMPRESSED);
    return PublicKey(out);
}

}  // namespace bts::crypto
