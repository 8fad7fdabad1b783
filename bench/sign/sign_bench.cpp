// Signing benchmark: 1-transfer transactions built + serialized + signed per second on one core,
// next to raw libsecp256k1 signing (same fc canonical retry) measured in the same run.
#include "raw_sign_baseline.hpp"

#include "common/protocol/transaction.hpp"
#include "common/protocol/raw.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

using namespace bts;

struct TxRate {
    double tx_per_second = 0;
    std::uint64_t txs = 0;
};

// What the beacon's preparer does per transaction: fill the op, pack, digest, sign, pack signed.
TxRate full_tx_signing(double seconds) {
    using Clock = std::chrono::steady_clock;
    crypto::Context ctx;
    auto key = crypto::PrivateKey::from_seed(ctx, "nathan");
    protocol::ChainId chain = crypto::sha256(std::string_view("bench-chain"));
    protocol::Bytes unsigned_bytes, signed_bytes;
    unsigned_bytes.reserve(256);
    signed_bytes.reserve(256);
    TxRate r;
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration<double>(seconds);
    std::uint64_t sink = 0;
    while (Clock::now() < deadline) {
        for (int batch = 0; batch < 64; ++batch) {
            protocol::SignedTransaction tx;
            tx.ref_block_num = 1234;
            tx.ref_block_prefix = 0xdeadbeef;
            tx.expiration.seconds = 1700000000;
            protocol::TransferOp op;
            op.fee = {2000000, {0}};
            op.from.instance = 17;
            op.to.instance = 18;
            op.amount = {std::int64_t(1 + r.txs), {0}};  // distinct tx ids, distinct digests
            tx.operations.emplace_back(std::move(op));
            unsigned_bytes.clear();
            protocol::pack(unsigned_bytes, static_cast<const protocol::Transaction&>(tx));
            auto digest = protocol::signing_digest(chain, unsigned_bytes);
            tx.signatures.push_back(key.sign_compact(ctx, digest));
            signed_bytes.clear();
            protocol::pack(signed_bytes, tx);
            sink += signed_bytes[signed_bytes.size() - 1];
            ++r.txs;
        }
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    r.tx_per_second = double(r.txs) / elapsed;
    if (sink == 42) std::puts("");  // keep the work observable
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
    if (seconds <= 0) {
        std::fprintf(stderr, "usage: sign_bench [SECONDS]\n");
        return 2;
    }
    // Interleave to even out frequency scaling and noise from other processes.
    double full_best = 0, base_best = 0;
    for (int round = 0; round < 3; ++round) {
        auto base = bts::bench::raw_sign_baseline(seconds / 3);
        auto full = full_tx_signing(seconds / 3);
        std::printf("round %d: full %.0f tx/s, raw %.0f sig/s (mean tries %.2f)\n", round + 1,
                    full.tx_per_second, base.signatures_per_second, base.mean_tries);
        full_best = std::max(full_best, full.tx_per_second);
        base_best = std::max(base_best, base.signatures_per_second);
    }
    std::printf("sign: %.0f tx/s, baseline %.0f sig/s, ratio %.3f\n", full_best, base_best, full_best / base_best);
    return 0;
}
