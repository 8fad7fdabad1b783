// Known-answer tests for the hash functions, hex and base58.
#include "common/crypto/hash.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

namespace bts::crypto {
namespace {

ByteView bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// FIPS 180-2 / RIPEMD-160 reference "abc", "" and the 448-bit message.
TEST(Hash, Sha256KnownAnswers) {
    EXPECT_EQ(to_hex(sha256(std::string_view("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(to_hex(sha256(std::string_view(""))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(to_hex(sha256(
                  std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million(1000000, 'a');
    EXPECT_EQ(to_hex(sha256(std::string_view(million))),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Hash, Sha256OfTwoPartsEqualsConcatenation) {
    const std::string a = "chain-id-bytes-0123456789abcdef!";
    const std::string b = "unsigned transaction bytes";
    EXPECT_EQ(sha256(bytes_of(a), bytes_of(b)), sha256(std::string_view(a + b)));
    EXPECT_EQ(sha256(bytes_of(a), ByteView{}), sha256(std::string_view(a)));
    EXPECT_EQ(sha256(ByteView{}, bytes_of(b)), sha256(std::string_view(b)));
    EXPECT_EQ(sha256(ByteView{}, ByteView{}), sha256(std::string_view("")));
}

TEST(Hash, Sha512KnownAnswers) {
    EXPECT_EQ(to_hex(sha512(bytes_of("abc"))),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    EXPECT_EQ(to_hex(sha512(bytes_of(""))),
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

TEST(Hash, Sha224KnownAnswers) {
    EXPECT_EQ(to_hex(sha224(bytes_of("abc"))),
              "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    EXPECT_EQ(to_hex(sha224(bytes_of(""))),
              "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
}

TEST(Hash, Ripemd160KnownAnswers) {
    EXPECT_EQ(to_hex(ripemd160(bytes_of("abc"))), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
    EXPECT_EQ(to_hex(ripemd160(bytes_of(""))), "9c1185a5c5e9fc54612808977ee8f548b2258d31");
    EXPECT_EQ(to_hex(ripemd160(bytes_of("message digest"))),
              "5d0689ef49d2fae572b881b123a85ffa21595f36");
}

// Interleaving algorithms on one thread must not disturb the per-thread contexts.
TEST(Hash, InterleavedAlgorithms) {
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(to_hex(ripemd160(bytes_of("abc"))), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
        EXPECT_EQ(to_hex(sha256(bytes_of("abc"))),
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        EXPECT_EQ(to_hex(sha224(bytes_of("abc"))),
                  "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    }
}

TEST(Hash, ThreadsGetTheirOwnContexts) {
    const Sha256 expected = sha256(std::string_view("abc"));
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                if (sha256(std::string_view("abc")) != expected) ++mismatches[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(Hex, RoundTripAndCase) {
    const Bytes data = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
    EXPECT_EQ(to_hex(data), "0001abcdefff");
    EXPECT_EQ(from_hex("0001abcdefff"), data);
    EXPECT_EQ(from_hex("0001ABCDEFFF"), data);
    EXPECT_EQ(from_hex(""), Bytes{});
    EXPECT_EQ(to_hex(ByteView{}), "");
}

TEST(Hex, RejectsMalformed) {
    EXPECT_FALSE(from_hex("abc").has_value());   // odd length
    EXPECT_FALSE(from_hex("0g").has_value());    // not hex
    EXPECT_FALSE(from_hex("0x00").has_value());  // no prefix support
    EXPECT_FALSE(from_hex(" 0").has_value());
}

TEST(Hex, FixedSize) {
    const auto a = from_hex_fixed<2>("beef");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ((*a)[0], 0xbe);
    EXPECT_EQ((*a)[1], 0xef);
    EXPECT_FALSE(from_hex_fixed<2>("beefee").has_value());
    EXPECT_FALSE(from_hex_fixed<2>("be").has_value());
    EXPECT_FALSE(from_hex_fixed<2>("bexx").has_value());
}

// Bitcoin Core src/test/data/base58_encode_decode.json.
TEST(Base58, BitcoinVectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"61", "2g"},
        {"626262", "a3gV"},
        {"636363", "aPEr"},
        {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
        {"00eb15231dfceb60925886b67d065299925915aeb172c06647",
         "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
        {"516b6fcd0f", "ABnLTmg"},
        {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
        {"572e4794", "3EFU7m"},
        {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
        {"10c8511e", "Rt5zm"},
        {"00000000000000000000", "1111111111"},
        {"000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
         "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"},
    };
    for (const auto& [hex, b58] : vectors) {
        const auto data = from_hex(hex);
        ASSERT_TRUE(data.has_value());
        EXPECT_EQ(base58_encode(*data), b58) << hex;
        const auto decoded = base58_decode(b58);
        ASSERT_TRUE(decoded.has_value()) << b58;
        EXPECT_EQ(*decoded, *data) << b58;
    }
}

TEST(Base58, RejectsCharactersOutsideTheAlphabet) {
    for (const char* bad : {"0", "O", "I", "l", "2g ", " 2g", "2g\n", "+", "a3gV!"}) {
        EXPECT_FALSE(base58_decode(bad).has_value()) << bad;
    }
    EXPECT_FALSE(base58_decode(std::string_view("2\0g", 3)).has_value());
}

TEST(Base58, RandomRoundTrips) {
    std::mt19937 rng(12345);
    for (int i = 0; i < 500; ++i) {
        Bytes data(rng() % 70);
        for (auto& b : data) b = static_cast<std::uint8_t>(rng());
        // Leading zero bytes exercise the '1' prefix.
        const std::size_t zeros = rng() % 4;
        for (std::size_t z = 0; z < zeros && z < data.size(); ++z) data[z] = 0;
        const auto text = base58_encode(data);
        EXPECT_LE(text.size(), base58_max_chars(data.size()));
        const auto back = base58_decode(text);
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(*back, data);
    }
}

TEST(Base58, FixedBufferDecode) {
    std::array<std::uint8_t, 3> out{};
    auto n = base58_decode_into("a3gV", out);  // "bbb"
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 3u);
    EXPECT_EQ(out, (std::array<std::uint8_t, 3>{0x62, 0x62, 0x62}));
    n = base58_decode_into("2g", out);  // shorter than the buffer: left-aligned
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(out[0], 0x61);
    EXPECT_FALSE(base58_decode_into("2cFupjhnEsSn59qHXstmK2ffpLv2", out).has_value());  // too long
    EXPECT_FALSE(base58_decode_into("1111", out).has_value());  // four zero bytes do not fit
    n = base58_decode_into("111", out);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(out, (std::array<std::uint8_t, 3>{0, 0, 0}));
}

TEST(Base58, FixedBufferEncodeNeedsNoTerminator) {
    const Bytes data = {0x00, 0x00, 0x61};
    std::array<char, base58_max_chars(3)> out;
    out.fill('#');  // garbage must not leak into the digits
    const std::size_t n = base58_encode_into(data, out);
    EXPECT_EQ(std::string_view(out.data(), n), "112g");
}

}  // namespace
}  // namespace bts::crypto
