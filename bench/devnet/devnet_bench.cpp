// bts-devnet benchmark: transfers accepted per second by the chain's push path on one core, with
// full signature verification, next to bare libsecp256k1 public-key recovery of the same
// signatures measured in the same run; then the same with trusted signatures (no recovery) and
// through the JSON decoding the server does.
//
// Last line: `devnet: <N> tx/s, baseline <M> recover/s, ratio <R>` (goal: ratio >= 0.7).
#include "actors/devnet/chain.hpp"
#include "actors/devnet/genesis.hpp"
#include "common/crypto/hash.hpp"
#include "common/protocol/json.hpp"

#include <nlohmann/json.hpp>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace bts;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kStress0 = 18;
constexpr std::uint32_t kStart = 1700000000;

struct Prepared {
    std::vector<protocol::SignedTransaction> txs;
    std::vector<crypto::Sha256> digests;
    std::vector<std::string> json_texts;
};

Prepared prepare(const devnet::Genesis& g, std::size_t n) {
    crypto::Context ctx;
    std::vector<crypto::PrivateKey> keys;
    for (int i = 0; i < 200; ++i)
        keys.push_back(crypto::PrivateKey::from_seed(ctx, "bts-stress-devnet:stress-" + std::to_string(i)));
    Prepared p;
    p.txs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t from = i % 200;
        protocol::SignedTransaction tx;
        tx.expiration = protocol::TimePointSec{kStart + 3600};
        protocol::TransferOp op;
        op.fee = {2000000, protocol::AssetId{0}};
        op.from = protocol::AccountId{kStress0 + from};
        op.to = protocol::AccountId{kStress0 + (from + 1) % 200};
        op.amount = {std::int64_t(1 + i), protocol::AssetId{0}};
        tx.operations.push_back(op);
        const crypto::PrivateKey* k = &keys[from];
        p.digests.push_back(protocol::sign(tx, g.chain_id, std::span<const crypto::PrivateKey* const>(&k, 1), ctx));
        p.json_texts.push_back(protocol::to_json_text(tx));
        p.txs.push_back(std::move(tx));
    }
    return p;
}

double push_all(const devnet::Genesis& g, const Prepared& p, bool trust) {
    devnet::ChainConfig cfg;
    cfg.max_pending = p.txs.size() + 1;
    cfg.trust_signatures = trust;
    devnet::Chain chain(g, cfg, protocol::TimePointSec{kStart});
    auto copies = p.txs;  // push_transaction takes ownership; copying is not what we measure
    auto t0 = Clock::now();
    for (auto& tx : copies) {
        auto r = chain.push_transaction(std::move(tx));
        if (!r.ok()) {
            std::fprintf(stderr, "rejected: %s\n", r.error->message().c_str());
            std::exit(1);
        }
    }
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return double(p.txs.size()) / s;
}

// What the server does per broadcast: parse the text, convert, decode, push.
double push_json(const devnet::Genesis& g, const Prepared& p) {
    devnet::ChainConfig cfg;
    cfg.max_pending = p.txs.size() + 1;
    devnet::Chain chain(g, cfg, protocol::TimePointSec{kStart});
    auto t0 = Clock::now();
    for (const auto& text : p.json_texts) {
        auto j = protocol::Json::parse(text);
        auto r = chain.push_transaction(protocol::signed_transaction_from_json(j));
        if (!r.ok()) std::exit(1);
    }
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return double(p.txs.size()) / s;
}

// Bare libsecp256k1: parse the compact signature, recover, serialize the compressed key.
double raw_recover(const Prepared& p) {
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
    unsigned char out[33];
    std::size_t ok = 0;
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < p.txs.size(); ++i) {
        const auto& sig = p.txs[i].signatures[0];
        secp256k1_ecdsa_recoverable_signature rs;
        secp256k1_pubkey pk;
        int recid = (sig[0] - 27) & 3;
        if (secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig.data() + 1, recid) &&
            secp256k1_ecdsa_recover(ctx, &pk, &rs, p.digests[i].data())) {
            std::size_t len = sizeof out;
            secp256k1_ec_pubkey_serialize(ctx, out, &len, &pk, SECP256K1_EC_COMPRESSED);
            ok += out[0] != 0;
        }
    }
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    secp256k1_context_destroy(ctx);
    if (ok != p.txs.size()) std::fprintf(stderr, "baseline: %zu of %zu recovered\n", ok, p.txs.size());
    return double(p.txs.size()) / s;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = argc > 1 ? std::size_t(std::strtoull(argv[1], nullptr, 10)) : 20000;
    auto genesis = devnet::Genesis::built_in();
    std::printf("preparing %zu signed transfers...\n", n);
    Prepared p = prepare(genesis, n);

    // Interleave and keep the best of three: the machine is shared.
    double full = 0, base = 0, trust = 0, json = 0;
    for (int round = 0; round < 3; ++round) {
        base = std::max(base, raw_recover(p));
        full = std::max(full, push_all(genesis, p, false));
        trust = std::max(trust, push_all(genesis, p, true));
        json = std::max(json, push_json(genesis, p));
    }
    std::printf("devnet trust-signatures: %.0f tx/s (push path without recovery)\n", trust);
    std::printf("devnet JSON decode + push (full verification): %.0f tx/s\n", json);
    std::printf("devnet: %.0f tx/s, baseline %.0f recover/s, ratio %.2f\n", full, base, full / base);
    return 0;
}
