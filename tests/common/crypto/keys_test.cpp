// Keys and signatures against the published Graphene vectors, plus misuse and hygiene checks.
#include "common/crypto/keys.hpp"

#include <gtest/gtest.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <new>
#include <thread>

// Counts heap allocations made by the current thread, to hold the hot path to "no allocation".
// glibc lets the executable interpose malloc and forward to the real one.
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define BTS_COUNT_ALLOCATIONS 1
namespace {
thread_local bool g_counting = false;
thread_local std::size_t g_allocations = 0;
}  // namespace
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* malloc(std::size_t n) {
    if (g_counting) ++g_allocations;
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
    if (g_counting) ++g_allocations;
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
    if (g_counting) ++g_allocations;
    return __libc_realloc(p, n);
}
}
#endif

namespace bts::crypto {
namespace {

using nlohmann::json;

const json& vectors() {
    static const json doc = [] {
        const char* dir = std::getenv("BTS_TEST_DATA");
        const std::string path = std::string(dir ? dir : "tests/data") + "/graphene-vectors.json";
        std::ifstream in(path);
        if (!in) {
            ADD_FAILURE() << "cannot open " << path << " (is BTS_TEST_DATA set?)";
            return json::object();
        }
        return json::parse(in);
    }();
    return doc;
}

const Context& ctx() {
    static const Context context;
    return context;
}

template <std::size_t N>
std::array<std::uint8_t, N> hex_array(const json& j) {
    const auto a = from_hex_fixed<N>(j.get<std::string>());
    EXPECT_TRUE(a.has_value()) << j;
    return a.value_or(std::array<std::uint8_t, N>{});
}

PublicKey pub(std::string_view text) {
    std::string error;
    const auto key = PublicKey::parse(text, &error);
    EXPECT_TRUE(key.has_value()) << error;
    return key.value_or(PublicKey{});
}

bool has_string(const json& j, const char* field) {
    return j.contains(field) && j[field].is_string();
}

// The prefix of a public-key string: everything before the 50 base58 characters.
std::string key_prefix(const std::string& text) {
    return text.substr(0, text.size() - 50);
}

// Signature made with fc's nonce scheme but stopping at attempt `k`, canonical or not.
Signature sign_attempt(const PrivateKey& key, const Sha256& digest, unsigned k) {
    struct Data {
        unsigned k;
    } data{k};
    auto nonce = [](unsigned char* n32, const unsigned char* m32, const unsigned char* k32,
                    const unsigned char*, void* d, unsigned int) {
        return secp256k1_nonce_function_rfc6979(n32, m32, k32, nullptr, nullptr,
                                                static_cast<Data*>(d)->k);
    };
    secp256k1_ecdsa_recoverable_signature rs;
    EXPECT_EQ(secp256k1_ecdsa_sign_recoverable(ctx().get(), &rs, digest.data(), key.secret().data(),
                                               +nonce, &data),
              1);
    Signature sig{};
    int recid = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx().get(), sig.data() + 1, &recid,
                                                            &rs);
    sig[0] = static_cast<std::uint8_t>(31 + recid);
    return sig;
}

const PrivateKey& nathan() {
    static const PrivateKey key = PrivateKey::from_seed(ctx(), "nathan");
    return key;
}

// ---------------------------------------------------------------------------------------------
// Published vectors

TEST(Vectors, KeysWifPublicKeyAddress) {
    int checked = 0;
    for (const auto& v : vectors()["keys"]) {
        SCOPED_TRACE(v.dump());
        std::optional<PrivateKey> key;
        if (has_string(v, "wif")) {
            const auto wif = v["wif"].get<std::string>();
            std::string error;
            key = PrivateKey::from_wif(ctx(), wif, &error);
            ASSERT_TRUE(key.has_value()) << error;
            EXPECT_EQ(key->to_wif(), wif);
            if (has_string(v, "private_key_hex")) {
                EXPECT_EQ(to_hex(key->secret()), v["private_key_hex"]);
            }
        }
        if (has_string(v, "public_key")) {
            const auto text = v["public_key"].get<std::string>();
            const auto parsed = pub(text);
            EXPECT_EQ(parsed.to_string(key_prefix(text)), text);
            EXPECT_EQ(PublicKey::from_string(text, key_prefix(text)), parsed);
            if (key) {
                EXPECT_EQ(key->public_key(), parsed);
                EXPECT_EQ(key->public_key().to_string(key_prefix(text)), text);
            }
            if (has_string(v, "address")) {
                const auto addr = v["address"].get<std::string>();
                const auto prefix = key_prefix(text);
                EXPECT_EQ(parsed.address_string(prefix), addr);
                const auto bytes = parse_address(addr, prefix);
                ASSERT_TRUE(bytes.has_value());
                EXPECT_EQ(*bytes, parsed.address());
                EXPECT_EQ(parse_address(addr), bytes);
            }
        }
        if (has_string(v, "null_public_key")) {
            const auto null_key = pub(v["null_public_key"].get<std::string>());
            EXPECT_EQ(null_key.bytes(), PublicKeyBytes{});
            EXPECT_EQ(null_key.to_string("CBA"), v["null_public_key"]);
        }
        ++checked;
    }
    EXPECT_EQ(checked, 21);
}

TEST(Vectors, FcCompatibleSignatures) {
    int checked = 0;
    for (const auto& tx : vectors()["transactions"]) {
        const auto& d = tx["derived"];
        if (!has_string(tx["inputs"], "wif") || !has_string(d, "fc_compatible_signature")) continue;
        SCOPED_TRACE(tx["test"].dump() + " " + d["sig_digest"].dump());
        const auto key = PrivateKey::from_wif(ctx(), tx["inputs"]["wif"].get<std::string>());
        ASSERT_TRUE(key.has_value());
        const auto digest = hex_array<32>(d["sig_digest"]);
        int tries = 0;
        const Signature sig = key->sign_compact(ctx(), digest, &tries);
        EXPECT_EQ(to_hex(sig), d["fc_compatible_signature"]);
        EXPECT_EQ(tries, d["fc_compatible_tries"].get<int>());
        EXPECT_TRUE(is_canonical(sig));
        const auto signer = pub(d["signer_pubkey"].get<std::string>());
        EXPECT_EQ(key->public_key(), signer);
        EXPECT_EQ(recover(ctx(), sig, digest), signer);
        ++checked;
    }
    EXPECT_EQ(checked, 39);
}

TEST(Vectors, PublishedSignaturesRecover) {
    int checked = 0;
    for (const auto& tx : vectors()["transactions"]) {
        const auto status = tx["signature_status"].get<std::string>();
        if (status.rfind("valid", 0) != 0) continue;
        const auto& d = tx["derived"];
        SCOPED_TRACE(tx["test"].dump() + " " + d["sig_digest"].dump());
        const auto sig = hex_array<65>(d["published_signature"]);
        const auto digest = hex_array<32>(d["sig_digest"]);
        EXPECT_EQ(recover(ctx(), sig, digest), pub(d["signer_pubkey"].get<std::string>()));
        ++checked;
    }
    EXPECT_GE(checked, 20);
}

// python-graphenelib test_publickey_sorting: flat_set<public_key_type> order is by address.
TEST(Vectors, PublicKeySortOrder) {
    int checked = 0;
    for (const auto& p : vectors()["primitives"]) {
        if (p["type"].get<std::string>().rfind("public key sort order", 0) != 0) continue;
        std::vector<std::string> texts = p["input"].get<std::vector<std::string>>();
        std::vector<PublicKey> keys;
        for (const auto& t : texts) keys.push_back(pub(t));
        std::sort(keys.begin(), keys.end(), address_less);
        // expected_hex reads "GPH8Cem.. < GPH6pbV.. < GPH6zLN..".
        std::vector<std::string> expected;
        std::string spec = p["expected_hex"].get<std::string>();
        for (std::size_t pos = 0; pos < spec.size();) {
            const std::size_t end = std::min(spec.find(" < ", pos), spec.size());
            std::string item = spec.substr(pos, end - pos);
            item = item.substr(0, item.find(".."));
            expected.push_back(item);
            pos = end + 3;
        }
        ASSERT_EQ(expected.size(), keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i) {
            EXPECT_EQ(keys[i].to_string("GPH").substr(0, expected[i].size()), expected[i]) << i;
        }
        EXPECT_TRUE(address_less(keys[0], keys[1]));
        EXPECT_FALSE(address_less(keys[1], keys[0]));
        EXPECT_FALSE(address_less(keys[0], keys[0]));
        ++checked;
    }
    EXPECT_EQ(checked, 1);
}

// ---------------------------------------------------------------------------------------------
// Keys

TEST(Keys, NathanDevKey) {
    const auto& key = nathan();
    EXPECT_EQ(key.to_wif(), "5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3");
    EXPECT_EQ(key.public_key().to_string(),
              "BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV");
    EXPECT_EQ(key.public_key().address_string(), "BTSFAbAx7yuxt725qSZvfwWqkdCwp9ZnUama");
    EXPECT_EQ(address_to_string(key.public_key().address(), "BTS"),
              "BTSFAbAx7yuxt725qSZvfwWqkdCwp9ZnUama");
}

TEST(Keys, FromBytesRejectsOutOfRangeSecrets) {
    EXPECT_FALSE(PrivateKey::from_bytes(ctx(), std::array<std::uint8_t, 32>{}).has_value());
    // The group order n itself, and all-ones (> n).
    const auto n =
        from_hex_fixed<32>("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    EXPECT_FALSE(PrivateKey::from_bytes(ctx(), *n).has_value());
    std::array<std::uint8_t, 32> ones;
    ones.fill(0xff);
    EXPECT_FALSE(PrivateKey::from_bytes(ctx(), ones).has_value());
    auto n_minus_1 = *n;
    n_minus_1[31] = 0x40;
    EXPECT_TRUE(PrivateKey::from_bytes(ctx(), n_minus_1).has_value());
}

TEST(Keys, CopyAndAssign) {
    const PrivateKey a = nathan();
    PrivateKey b;
    b = a;
    EXPECT_EQ(b.secret(), nathan().secret());
    EXPECT_EQ(b.public_key(), nathan().public_key());
}

TEST(Keys, GenerateGivesDistinctWorkingKeys) {
    const auto a = PrivateKey::generate(ctx());
    const auto b = PrivateKey::generate(ctx());
    EXPECT_NE(a.secret(), b.secret());
    const auto digest = sha256(std::string_view("generate"));
    EXPECT_EQ(recover(ctx(), a.sign_compact(ctx(), digest), digest), a.public_key());
    const auto back = PrivateKey::from_wif(ctx(), a.to_wif());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->secret(), a.secret());
}

// The destructor must leave no copy of the secret in the object's storage.
TEST(Keys, SecretWipedOnDestruction) {
    alignas(PrivateKey) unsigned char storage[sizeof(PrivateKey)];
    auto* key = new (storage) PrivateKey(nathan());
    const auto secret = nathan().secret();
    auto contains_secret = [&] {
        return std::search(storage, storage + sizeof storage, secret.begin(), secret.end()) !=
               storage + sizeof storage;
    };
    ASSERT_TRUE(contains_secret());
    key->~PrivateKey();
    EXPECT_FALSE(contains_secret());
    // The public key is not secret; only the 32 secret bytes need to be gone.
}

TEST(Keys, DefaultKeyCannotSign) {
    const PrivateKey empty;
    int tries = -1;
    const Signature sig = empty.sign_compact(ctx(), sha256(std::string_view("x")), &tries);
    EXPECT_EQ(tries, 0);
    EXPECT_EQ(sig, Signature{});
    EXPECT_FALSE(recover(ctx(), sig, sha256(std::string_view("x")), false).has_value());
}

// ---------------------------------------------------------------------------------------------
// WIF

std::string make_wif(const std::array<std::uint8_t, 32>& secret, bool double_sha,
                     std::uint8_t version = 0x80) {
    Bytes raw{version};
    raw.insert(raw.end(), secret.begin(), secret.end());
    auto check = sha256(ByteView(raw));
    if (double_sha) check = sha256(ByteView(check));
    raw.insert(raw.end(), check.begin(), check.begin() + 4);
    return base58_encode(raw);
}

TEST(Wif, SingleSha256ChecksumAccepted) {
    const std::string single = make_wif(nathan().secret(), false);
    ASSERT_NE(single, nathan().to_wif());
    std::string error;
    const auto key = PrivateKey::from_wif(ctx(), single, &error);
    ASSERT_TRUE(key.has_value()) << error;
    EXPECT_EQ(key->public_key(), nathan().public_key());
    EXPECT_EQ(key->to_wif(), nathan().to_wif());  // exported in the standard form
}

// Each refusal must carry a reason and no fragment of the (secret) input.
void expect_refused_quietly(const std::string& wif, const std::string& reason_fragment) {
    SCOPED_TRACE(reason_fragment);
    std::string error;
    EXPECT_FALSE(PrivateKey::from_wif(ctx(), wif, &error).has_value());
    EXPECT_NE(error.find(reason_fragment), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
    for (std::size_t i = 0; i + 6 <= wif.size(); ++i) {
        EXPECT_EQ(error.find(wif.substr(i, 6)), std::string::npos)
            << "error echoes the WIF: " << error;
    }
}

TEST(Wif, RefusedWithoutEchoingTheInput) {
    const std::string good = nathan().to_wif();
    std::string bad_checksum = good;
    bad_checksum.back() = bad_checksum.back() == 'z' ? 'y' : 'z';
    expect_refused_quietly(bad_checksum, "bad checksum");
    expect_refused_quietly(good.substr(0, good.size() - 1), "wrong length");
    expect_refused_quietly(good + "2", "wrong length");
    expect_refused_quietly(good + good, "wrong length");
    expect_refused_quietly(std::string(51, 'z'), "wrong length");  // 51 characters, 38 bytes
    expect_refused_quietly(std::string(51, '1'), "wrong length");  // 51 zero bytes
    std::string not_base58 = good;
    not_base58[10] = '0';
    expect_refused_quietly(not_base58, "not base58");
    expect_refused_quietly(make_wif(nathan().secret(), true, 0x81), "version");
    expect_refused_quietly(make_wif(std::array<std::uint8_t, 32>{}, true), "out of range");
    expect_refused_quietly("", "empty");
}

// ---------------------------------------------------------------------------------------------
// Public key and address strings

TEST(PublicKeyString, AnyPrefix) {
    const auto& key = nathan().public_key();
    for (const char* prefix : {"BTS", "TEST", "GPH", "STM", "X", "ABCDEFG", "PPY2"}) {
        const auto text = key.to_string(prefix);
        EXPECT_EQ(PublicKey::from_string(text), key) << text;
        EXPECT_EQ(PublicKey::from_string(text, prefix), key) << text;
        const auto addr = key.address_string(prefix);
        EXPECT_EQ(parse_address(addr), key.address()) << addr;
        EXPECT_EQ(parse_address(addr, prefix), key.address()) << addr;
    }
}

TEST(PublicKeyString, ExpectedPrefixEnforced) {
    const auto text = nathan().public_key().to_string("TEST");
    std::string error;
    EXPECT_FALSE(PublicKey::parse(text, &error, "BTS").has_value());
    EXPECT_EQ(error, "public key \"" + text + "\": expected prefix \"BTS\"");
    EXPECT_FALSE(parse_address(nathan().public_key().address_string("TEST"), "BTS").has_value());
}

TEST(PublicKeyString, BadChecksumMessage) {
    std::string text = "BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV";
    text.back() = 'W';
    std::string error;
    EXPECT_FALSE(PublicKey::parse(text, &error).has_value());
    EXPECT_EQ(error, "public key \"" + text + "\": bad checksum");
    EXPECT_FALSE(PublicKey::parse(text, &error, "BTS").has_value());
    EXPECT_EQ(error, "public key \"" + text + "\": bad checksum");
}

TEST(PublicKeyString, OtherErrors) {
    std::string error;
    EXPECT_FALSE(PublicKey::parse("", &error).has_value());
    EXPECT_EQ(error, "public key \"\": empty");
    EXPECT_FALSE(PublicKey::parse("BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5C", &error)
                     .has_value());
    EXPECT_NE(error.find("wrong length"), std::string::npos) << error;
    EXPECT_FALSE(PublicKey::parse("BTS0OIl", &error).has_value());
    EXPECT_NE(error.find("base58"), std::string::npos) << error;
    EXPECT_FALSE(PublicKey::parse("BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV\n", &error)
                     .has_value());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    // Without a prefix there is nothing to parse.
    EXPECT_FALSE(
        PublicKey::from_string("6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV").has_value());
    EXPECT_FALSE(PublicKey::from_string("BTS").has_value());
    EXPECT_FALSE(
        parse_address("BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV").has_value());
    EXPECT_FALSE(PublicKey::from_string("BTSFAbAx7yuxt725qSZvfwWqkdCwp9ZnUama").has_value());
    const std::string huge(100000, 'z');
    EXPECT_FALSE(PublicKey::parse(huge, &error).has_value());
    EXPECT_NE(error.find("too long"), std::string::npos) << error;
    EXPECT_LT(error.size(), 200u);
    EXPECT_FALSE(parse_address(huge).has_value());
}

// A private key pasted where a public key belongs must not end up in a log line.
TEST(PublicKeyString, WifGivenAsPublicKeyIsNotEchoed) {
    const std::string wif = nathan().to_wif();
    std::string error;
    EXPECT_FALSE(PublicKey::parse(wif, &error).has_value());
    EXPECT_EQ(error.find(wif.substr(5, 10)), std::string::npos) << error;
    EXPECT_NE(error.find("private key"), std::string::npos) << error;
}

// ---------------------------------------------------------------------------------------------
// Signatures and recovery

// The first vector whose fc signature needed more than one try: its attempt 1 is non-canonical.
struct NonCanonicalCase {
    Sha256 digest;
    Signature first_attempt;
};

NonCanonicalCase non_canonical_case() {
    for (const auto& tx : vectors()["transactions"]) {
        const auto& d = tx["derived"];
        if (d["fc_compatible_tries"].is_number() && d["fc_compatible_tries"].get<int>() > 1) {
            const auto digest = hex_array<32>(d["sig_digest"]);
            return {digest, sign_attempt(nathan(), digest, 1)};
        }
    }
    ADD_FAILURE() << "no vector with fc_compatible_tries > 1";
    return {};
}

TEST(Recover, NonCanonicalRefusedWhenRequired) {
    const auto c = non_canonical_case();
    ASSERT_FALSE(is_canonical(c.first_attempt));
    EXPECT_FALSE(recover(ctx(), c.first_attempt, c.digest, true).has_value());
    EXPECT_FALSE(
        recover(ctx(), c.first_attempt, c.digest).has_value());  // canonical is the default
    EXPECT_EQ(recover(ctx(), c.first_attempt, c.digest, false), nathan().public_key());
}

TEST(Recover, HeaderByteRange) {
    const auto digest = sha256(std::string_view("header"));
    const Signature sig = nathan().sign_compact(ctx(), digest);
    ASSERT_GE(sig[0], 31);
    ASSERT_LE(sig[0], 34);
    for (int header : {0x00, 26, 35, 0xff}) {
        Signature bad = sig;
        bad[0] = static_cast<std::uint8_t>(header);
        EXPECT_FALSE(recover(ctx(), bad, digest).has_value()) << header;
    }
    // 27..30 ("uncompressed") carry the same recid and recover the same key, as in fc.
    Signature uncompressed = sig;
    uncompressed[0] = static_cast<std::uint8_t>(sig[0] - 4);
    EXPECT_EQ(recover(ctx(), uncompressed, digest), nathan().public_key());
    // The other recid gives a different key (or none).
    Signature other = sig;
    other[0] = static_cast<std::uint8_t>(31 + ((sig[0] - 31) ^ 1));
    EXPECT_NE(recover(ctx(), other, digest), std::optional<PublicKey>(nathan().public_key()));
}

TEST(Recover, MalformedSignatures) {
    const auto digest = sha256(std::string_view("malformed"));
    Signature zero{};
    zero[0] = 31;
    EXPECT_FALSE(recover(ctx(), zero, digest, false).has_value());  // r = s = 0
    Signature big = nathan().sign_compact(ctx(), digest);
    std::fill(big.begin() + 1, big.begin() + 33, 0xff);  // r >= n
    EXPECT_FALSE(recover(ctx(), big, digest, false).has_value());
}

TEST(Recover, WrongDigestGivesAnotherKey) {
    const auto digest = sha256(std::string_view("right"));
    const Signature sig = nathan().sign_compact(ctx(), digest);
    const auto other = recover(ctx(), sig, sha256(std::string_view("wrong")));
    EXPECT_NE(other, std::optional<PublicKey>(nathan().public_key()));
}

TEST(Sign, ManyDigestsAreCanonicalAndRecover) {
    int total_tries = 0;
    constexpr int kCount = 200;
    for (int i = 0; i < kCount; ++i) {
        const auto digest = sha256(std::string_view("digest " + std::to_string(i)));
        int tries = 0;
        const Signature sig = nathan().sign_compact(ctx(), digest, &tries);
        ASSERT_TRUE(is_canonical(sig));
        ASSERT_GE(tries, 1);
        total_tries += tries;
        ASSERT_EQ(recover(ctx(), sig, digest), nathan().public_key());
        // Deterministic: fc would produce exactly this.
        if (tries > 1) {
            ASSERT_FALSE(is_canonical(sign_attempt(nathan(), digest, tries - 1)));
        }
        ASSERT_EQ(sign_attempt(nathan(), digest, tries), sig);
    }
    // P(canonical) ~ 0.5 per attempt: the mean is ~2 (loose bounds, deterministic inputs).
    EXPECT_GT(total_tries, kCount * 3 / 2);
    EXPECT_LT(total_tries, kCount * 5 / 2);
}

TEST(Sign, SharedContextAcrossThreads) {
    std::vector<std::thread> threads;
    std::vector<int> failures(2, 0);
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
            const PrivateKey key = PrivateKey::from_seed(ctx(), "thread " + std::to_string(t));
            for (int i = 0; i < 100; ++i) {
                const auto digest =
                    sha256(std::string_view("t" + std::to_string(t) + "/" + std::to_string(i)));
                if (recover(ctx(), key.sign_compact(ctx(), digest), digest) != key.public_key())
                    ++failures[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures, (std::vector<int>{0, 0}));
}

TEST(HotPath, NoHeapAllocation) {
#if defined(BTS_COUNT_ALLOCATIONS)
    const auto digest = sha256(std::string_view("warm up"));  // per-thread contexts created here
    const Signature sig0 = nathan().sign_compact(ctx(), digest);
    (void)recover(ctx(), sig0, digest);
    const std::array<std::uint8_t, 100> data{};
    g_allocations = 0;
    g_counting = true;
    Sha256 h = sha256(ByteView(data));
    h = sha256(ByteView(data), ByteView(h));
    const Signature sig = nathan().sign_compact(ctx(), h);
    const auto who = recover(ctx(), sig, h);
    g_counting = false;
    EXPECT_EQ(g_allocations, 0u);
    EXPECT_EQ(who, nathan().public_key());
#else
    GTEST_SKIP() << "allocation counting needs glibc";
#endif
}

}  // namespace
}  // namespace bts::crypto
