// bts-tx end to end: the real program, fed every published vector on stdin.
#include "process.hpp"

#include "common/protocol/json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace bts::test {
namespace {

using protocol::Json;

const Json& vectors() {
    static const Json v = [] {
        std::ifstream in(test_data("graphene-vectors.json"));
        return Json::parse(in);
    }();
    return v;
}

std::string tx_text(const Json& e) {
    Json tx = Json::object();
    tx["ref_block_num"] = e["inputs"]["ref_block_num"];
    tx["ref_block_prefix"] = e["inputs"]["ref_block_prefix"];
    tx["expiration"] = e["inputs"]["expiration"];
    tx["operations"] = Json::array({Json::array({e["op_id"], e["inputs"]["operation"]})});
    tx["extensions"] = Json::array();
    return tx.dump();
}

RunResult bts_tx(const std::vector<std::string>& args, const std::string& input = {}) {
    return run_program(built_program("src/tools/bts-tx/bts-tx"), args, input);
}

std::string line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

TEST(BtsTx, EveryVectorEncodesDecodesSignsAndVerifies) {
    TempDir dir;
    int checked = 0;
    for (const auto& e : vectors()["transactions"]) {
        if (!e["inputs"].contains("operation") || e["inputs"]["operation"].is_null()) continue;
        SCOPED_TRACE(e["op_name"].get<std::string>());
        std::string prefix = e["inputs"]["key_prefix"];
        std::string chain = e["inputs"]["chain_id"];
        // encode: JSON → unsigned hex
        auto enc = bts_tx({"encode", "--prefix", prefix}, tx_text(e));
        ASSERT_EQ(enc.exit_code, 0) << enc.err;
        EXPECT_EQ(line(enc.out), e["derived"]["unsigned_tx_hex"].get<std::string>());
        // decode the published signed hex, encode it back --signed: byte-exact
        auto dec = bts_tx({"decode", "--prefix", prefix}, e["expected_signed_tx_hex"].get<std::string>());
        ASSERT_EQ(dec.exit_code, 0) << dec.err;
        auto back = bts_tx({"encode", "--signed", "--prefix", prefix}, dec.out);
        ASSERT_EQ(back.exit_code, 0) << back.err;
        EXPECT_EQ(line(back.out), e["expected_signed_tx_hex"].get<std::string>());
        // id and digest
        EXPECT_EQ(line(bts_tx({"id"}, tx_text(e)).out), e["derived"]["tx_id"].get<std::string>());
        EXPECT_EQ(line(bts_tx({"digest", "--chain-id", chain}, tx_text(e)).out),
                  e["derived"]["sig_digest"].get<std::string>());
        if (e["inputs"]["wif"].is_null()) {  // mainnet-signed vector without a published key
            ++checked;
            continue;
        }
        // sign reproduces fc's signature
        auto key_file = dir.write("keys", e["inputs"]["wif"].get<std::string>() + "\n", 0600);
        auto signed_tx = bts_tx({"sign", "--chain-id", chain, "--key-file", key_file, "--prefix", prefix}, tx_text(e));
        ASSERT_EQ(signed_tx.exit_code, 0) << signed_tx.err;
        auto sj = Json::parse(signed_tx.out);
        ASSERT_EQ(sj["signatures"].size(), 1u);
        EXPECT_EQ(sj["signatures"][0].get<std::string>(), e["derived"]["fc_compatible_signature"].get<std::string>());
        // verify recovers the signer
        auto ver = bts_tx({"verify", "--chain-id", chain, "--prefix", prefix}, signed_tx.out);
        ASSERT_EQ(ver.exit_code, 0) << ver.err;
        EXPECT_EQ(Json::parse(ver.out)["signers"][0].get<std::string>(), e["derived"]["signer_pubkey"].get<std::string>());
        ++checked;
    }
    EXPECT_GE(checked, 30);
}

TEST(BtsTx, KeyAndKeygen) {
    const auto& k = vectors()["keys"][0];
    auto r = bts_tx({"key"}, k["wif"].get<std::string>() + "\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_EQ(j["public_key"], k["public_key"]);
    EXPECT_EQ(j["address"], k["address"]);
    auto g = bts_tx({"keygen", "--prefix", "TEST"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    auto gj = Json::parse(g.out);
    auto again = bts_tx({"key", "--prefix", "TEST"}, gj["wif"].get<std::string>());
    EXPECT_EQ(Json::parse(again.out)["public_key"], gj["public_key"]);
    EXPECT_EQ(gj["public_key"].get<std::string>().substr(0, 4), "TEST");
}

TEST(BtsTx, BadInputGetsOneLineNamingTheField) {
    std::string tx = R"({"ref_block_num":1,"ref_block_prefix":2,"expiration":"2020-01-01T00:00:00","operations":[[0,{"fee":{"amount":1,"asset_id":"1.3.0"},"from":"1.2.1","to":"1.2.2","amount":{"amount":5,"asset_id":"1.2.0"}}]]})";
    auto r = bts_tx({"encode"}, tx);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "bts-tx: operations[0][1].amount.asset_id: expected an id like \"1.3.N\", got \"1.2.0\"\n");
    auto bad_json = bts_tx({"id"}, "{not json");
    EXPECT_EQ(bad_json.exit_code, 2);
    EXPECT_EQ(bad_json.err.substr(0, 35), "bts-tx: stdin: invalid JSON at byte");
    auto bad_hex = bts_tx({"decode"}, "f68585abf4dce7");
    EXPECT_EQ(bad_hex.exit_code, 2);
    EXPECT_NE(bad_hex.err.find("unexpected end of data"), std::string::npos) << bad_hex.err;
    EXPECT_EQ(bts_tx({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(bts_tx({"digest"}, tx).err, "bts-tx: --chain-id is required for this command\n");
    auto help = bts_tx({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("usage: bts-tx"), std::string::npos);
    EXPECT_EQ(bts_tx({"--version"}).exit_code, 0);
}

TEST(BtsTx, KeysAreNeverEchoedOrTakenFromArgv) {
    TempDir dir;
    const std::string wif = vectors()["keys"][0]["wif"];
    std::string tx = R"({"ref_block_num":1,"ref_block_prefix":2,"expiration":"2020-01-01T00:00:00","operations":[]})";
    // World-readable key file is refused.
    auto open_file = dir.write("open", wif + "\n", 0644);
    auto r = bts_tx({"sign", "--chain-id", "mainnet", "--key-file", open_file}, tx);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("chmod 600"), std::string::npos);
    // A corrupted WIF is reported by line number, without echoing it.
    std::string bad = wif;
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    auto bad_file = dir.write("bad", "# comment\n" + bad + "\n", 0600);
    r = bts_tx({"sign", "--chain-id", "mainnet", "--key-file", bad_file}, tx);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(":2: not a valid WIF key"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(bad), std::string::npos);
    EXPECT_EQ(r.err.find(bad.substr(5, 20)), std::string::npos);
    r = bts_tx({"sign", "--chain-id", "mainnet", "--key", wif}, tx);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.find(wif), std::string::npos);
}

}  // namespace
}  // namespace bts::test
