// Every published vector in tests/data/graphene-vectors.json through the protocol library:
// JSON → bytes, bytes → same value, id, digest, fc-identical signature, published signatures.
#include "common/protocol/json.hpp"
#include "common/protocol/raw.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

namespace bts::protocol {
namespace {

Json load_vectors() {
    const char* dir = std::getenv("BTS_TEST_DATA");
    std::string path = std::string(dir ? dir : "tests/data") + "/graphene-vectors.json";
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    return Json::parse(in);
}

const Json& vectors() {
    static const Json v = load_vectors();
    return v;
}

std::string hex(const Bytes& b) { return crypto::to_hex(b); }

Json tx_json_from_inputs(const Json& inputs, const Json& op_id) {
    Json tx = Json::object();
    tx["ref_block_num"] = inputs["ref_block_num"];
    tx["ref_block_prefix"] = inputs["ref_block_prefix"];
    tx["expiration"] = inputs["expiration"];
    tx["operations"] = Json::array({Json::array({op_id, inputs["operation"]})});
    tx["extensions"] = Json::array();
    return tx;
}

ChainId chain_id_of(const Json& inputs) {
    return *crypto::from_hex_fixed<32>(inputs["chain_id"].get<std::string>());
}

class TransactionVector : public ::testing::TestWithParam<std::size_t> {
protected:
    const Json& entry() const { return vectors()["transactions"][GetParam()]; }
    bool has_operation_json() const { return entry()["inputs"].contains("operation") && !entry()["inputs"]["operation"].is_null(); }
};

TEST_P(TransactionVector, JsonToBytesMatchesPublishedHex) {
    const Json& e = entry();
    if (!has_operation_json()) GTEST_SKIP() << "vector publishes bytes only";
    JsonOptions opt{.key_prefix = e["inputs"]["key_prefix"].get<std::string>()};
    auto tx = transaction_from_json(tx_json_from_inputs(e["inputs"], e["op_id"]), opt);
    EXPECT_EQ(hex(pack_unsigned(tx)), e["derived"]["unsigned_tx_hex"].get<std::string>()) << e["op_name"];
    // The published signed hex is our unsigned bytes + 1 signature.
    std::string signed_hex = e["expected_signed_tx_hex"];
    EXPECT_EQ(signed_hex.substr(0, signed_hex.size() - 132), hex(pack_unsigned(tx)));
}

TEST_P(TransactionVector, BytesDecodeToTheSameTransactionAndBack) {
    const Json& e = entry();
    auto bytes = *crypto::from_hex(e["expected_signed_tx_hex"].get<std::string>());
    auto decoded = unpack_signed(bytes);
    ASSERT_EQ(decoded.signatures.size(), 1u);
    EXPECT_EQ(pack_signed(decoded), bytes) << e["op_name"];
    JsonOptions opt{.key_prefix = e["inputs"]["key_prefix"].get<std::string>()};
    // bytes → JSON → value → bytes
    auto again = signed_transaction_from_json(to_json(decoded, opt), opt);
    EXPECT_EQ(again, decoded);
    EXPECT_EQ(pack_signed(again), bytes);
    if (has_operation_json()) {
        auto from_inputs = transaction_from_json(tx_json_from_inputs(e["inputs"], e["op_id"]), opt);
        EXPECT_EQ(static_cast<const Transaction&>(decoded), from_inputs);
    }
}

TEST_P(TransactionVector, IdAndDigest) {
    const Json& e = entry();
    auto unsigned_bytes = *crypto::from_hex(e["derived"]["unsigned_tx_hex"].get<std::string>());
    EXPECT_EQ(crypto::to_hex(transaction_id(unsigned_bytes).data), e["derived"]["tx_id"].get<std::string>());
    EXPECT_EQ(crypto::to_hex(signing_digest(chain_id_of(e["inputs"]), unsigned_bytes)),
              e["derived"]["sig_digest"].get<std::string>());
}

TEST_P(TransactionVector, SigningIsByteIdenticalToFc) {
    const Json& e = entry();
    if (e["inputs"]["wif"].is_null()) GTEST_SKIP() << "no private key published (mainnet-signed vector)";
    crypto::Context ctx;
    auto key = crypto::PrivateKey::from_wif(ctx, e["inputs"]["wif"].get<std::string>());
    ASSERT_TRUE(key);
    auto tx = unpack_signed(*crypto::from_hex(e["expected_signed_tx_hex"].get<std::string>()));
    tx.signatures.clear();
    const crypto::PrivateKey* keys[] = {&*key};
    auto digest = sign(tx, chain_id_of(e["inputs"]), keys, ctx);
    EXPECT_EQ(crypto::to_hex(digest), e["derived"]["sig_digest"].get<std::string>());
    ASSERT_EQ(tx.signatures.size(), 1u);
    EXPECT_EQ(crypto::to_hex(tx.signatures[0]), e["derived"]["fc_compatible_signature"].get<std::string>());
    auto signers = recover_signers(tx, chain_id_of(e["inputs"]), ctx);
    ASSERT_EQ(signers.size(), 1u);
    EXPECT_EQ(signers[0].to_string(e["inputs"]["key_prefix"].get<std::string>()),
              e["derived"]["signer_pubkey"].get<std::string>());
}

TEST_P(TransactionVector, PublishedValidSignatureRecoversToSigner) {
    const Json& e = entry();
    if (e["signature_status"].get<std::string>().rfind("valid", 0) != 0)
        GTEST_SKIP() << "published signature is stale (made over other bytes)";
    crypto::Context ctx;
    auto tx = unpack_signed(*crypto::from_hex(e["expected_signed_tx_hex"].get<std::string>()));
    auto signers = recover_signers(tx, chain_id_of(e["inputs"]), ctx);
    ASSERT_EQ(signers.size(), 1u);
    EXPECT_EQ(signers[0].to_string(e["inputs"]["key_prefix"].get<std::string>()),
              e["derived"]["signer_pubkey"].get<std::string>());
}

std::string vector_name(const ::testing::TestParamInfo<std::size_t>& info) {
    return std::to_string(info.param) + "_" + vectors()["transactions"][info.param]["op_name"].get<std::string>();
}

INSTANTIATE_TEST_SUITE_P(Published, TransactionVector,
                         ::testing::Range<std::size_t>(0, vectors()["transactions"].size()), vector_name);

TEST(UnsignedVectors, JsonToBytesAndId) {
    for (const auto& e : vectors()["unsigned_transactions"]) {
        SCOPED_TRACE(e["source"].get<std::string>());
        auto tx = transaction_from_json(e["inputs"]);
        EXPECT_EQ(hex(pack_unsigned(tx)), e["expected_unsigned_tx_hex"].get<std::string>());
        if (e["derived"].contains("tx_id")) {
            EXPECT_EQ(crypto::to_hex(transaction_id(tx).data), e["derived"]["tx_id"].get<std::string>());
        }
        auto back = unpack_unsigned(*crypto::from_hex(e["expected_unsigned_tx_hex"].get<std::string>()));
        EXPECT_EQ(back, tx);
    }
}

TEST(SignedJsonExamples, ParseSerializeAndRecover) {
    crypto::Context ctx;
    for (const auto& e : vectors()["signed_json_examples"]) {
        auto tx = signed_transaction_from_json(e["signed_tx_json"]);
        EXPECT_EQ(hex(pack_unsigned(tx)), e["derived"]["unsigned_tx_hex"].get<std::string>());
        EXPECT_EQ(hex(pack_signed(tx)), e["derived"]["signed_tx_hex"].get<std::string>());
        EXPECT_EQ(crypto::to_hex(transaction_id(tx).data), e["derived"]["tx_id"].get<std::string>());
        auto chain = *crypto::from_hex_fixed<32>(vectors()["chain_ids"]["BTS_mainnet"].get<std::string>());
        EXPECT_EQ(crypto::to_hex(signing_digest(chain, tx)), e["derived"]["sig_digest_mainnet"].get<std::string>());
        auto signers = recover_signers(tx, chain, ctx);
        ASSERT_EQ(signers.size(), 1u);
        EXPECT_EQ(signers[0].to_string("BTS"), e["derived"]["recovered_pubkey_if_mainnet"].get<std::string>());
        // Our JSON output parses back to the same transaction.
        EXPECT_EQ(signed_transaction_from_json(to_json(tx)), tx);
    }
}

TEST(Primitives, PublishedEncodings) {
    for (const auto& p : vectors()["primitives"]) {
        std::string type = p["type"];
        SCOPED_TRACE(type);
        Bytes out;
        RawWriter w(out);
        const Json& in = p["input"];
        if (type.rfind("varint", 0) == 0) {
            w.varint(in.get<std::uint64_t>());
        } else if (type == "uint16") {
            w.write(in.get<std::uint16_t>());
        } else if (type == "uint32") {
            w.write(in.get<std::uint32_t>());
        } else if (type == "int64") {
            w.write(in.get<std::int64_t>());
        } else if (type == "string") {
            w.write(in.get<std::string>());
        } else if (type.rfind("bytes", 0) == 0) {
            // input reads "0000000000 (5 bytes)": the hex is the first word.
            std::string text = in.get<std::string>();
            auto bytes = crypto::from_hex(text.substr(0, text.find(' ')));
            ASSERT_TRUE(bytes) << text;
            w.write(Blob{*bytes});
        } else if (type == "bool") {
            w.write(in.get<bool>());
        } else if (type.rfind("optional<uint16>", 0) == 0) {
            w.write(std::optional<std::uint16_t>(in.get<std::uint16_t>()));
        } else if (type.rfind("optional", 0) == 0) {
            w.write(std::optional<std::uint16_t>());
        } else if (type == "time_point_sec") {
            w.write(*from_iso_string(in.get<std::string>()));
        } else if (type.rfind("typed object id", 0) == 0) {
            w.write(AccountId{parse_object_id(in.get<std::string>())->instance});
        } else if (type.rfind("generic object_id_type", 0) == 0) {
            w.write(*parse_object_id(in.get<std::string>()));
        } else if (type.rfind("vote_id_type", 0) == 0) {
            // vote ids have no public parser of their own: go through account_update's JSON.
            auto op = operation_from_json(Json::parse(
                R"([6,{"fee":{"amount":0,"asset_id":"1.3.0"},"account":"1.2.1","new_options":{"memo_key":"BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV","voting_account":"1.2.5","num_witness":0,"num_committee":0,"votes":[")" +
                in.get<std::string>() + R"("],"extensions":[]}}])"));
            w.write(std::get<AccountUpdateOp>(op).new_options->votes.items.at(0));
        } else if (type.rfind("public key sort order", 0) == 0) {
            FlatSet<PublicKey, KeyAddressLess> set;
            for (const auto& k : in) set.items.push_back(*PublicKey::from_string(k.get<std::string>()));
            set.normalize();
            std::string order;
            for (const auto& k : set.items) order += k.to_string("GPH").substr(0, 7) + ".. < ";
            order.resize(order.size() - 3);
            EXPECT_EQ(order, p["expected_hex"].get<std::string>());
            continue;
        } else {
            ADD_FAILURE() << "primitive type not covered: " << type;
            continue;
        }
        EXPECT_EQ(hex(out), p["expected_hex"].get<std::string>());
    }
}

}  // namespace
}  // namespace bts::protocol
