// Prepare benchmark: transactions built, signed and serialised into ready request bodies per
// second on all cores (the beacon's Preparer), and bytes held per prepared transaction — next to
// bare libsecp256k1 signing on the same cores, measured in the same run.
//
//   prepare_bench [COUNT] [THREADS]      defaults: 100000, all cores
#include "raw_sign_baseline.hpp"

#include "actors/beacon/preparer.hpp"

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    using namespace bts;
    std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
    unsigned threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : std::max(1u, std::thread::hardware_concurrency());

    crypto::Context ctx;
    std::vector<crypto::PrivateKey> keys;
    beacon::FactorySetup setup;
    for (int i = 0; i < 20; ++i) {
        keys.push_back(crypto::PrivateKey::from_seed(ctx, "bts-stress-devnet:stress-" + std::to_string(i)));
        setup.accounts.push_back({"stress-" + std::to_string(i), protocol::AccountId{18u + i}, keys.back().public_key()});
    }
    setup.fees.transfer = 2000000;
    setup.fees.limit_order_create = 500000;
    auto factory = beacon::TxFactory::create(setup);
    if (!factory) {
        std::fprintf(stderr, "%s\n", factory.error().c_str());
        return 1;
    }
    factory->set_reference(protocol::BlockId{}, 1'700'000'000, 1000);

    // Baseline: raw signing on every thread at once.
    const double baseline_seconds = 3.0;
    std::vector<bench::RawSignBaseline> raw(threads);
    {
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) pool.emplace_back([&, t] { raw[t] = bench::raw_sign_baseline(baseline_seconds); });
        for (auto& t : pool) t.join();
    }
    double raw_rate = 0;
    for (const auto& r : raw) raw_rate += r.signatures_per_second;

    beacon::PrepareJob job;
    job.factory = &*factory;
    job.count = count;
    for (const auto& k : keys) job.keys.push_back(&k);
    job.chain_id = crypto::sha256(std::string_view("bench-chain"));
    job.threads = threads;
    auto batch = beacon::prepare_batch(job, ctx);
    double rate = static_cast<double>(batch.txs.size()) / batch.seconds;

    std::printf("threads:                         %u\n", batch.threads);
    std::printf("transactions prepared:           %zu in %.2f s\n", batch.txs.size(), batch.seconds);
    std::printf("signing attempts per tx:         %.3f\n",
                static_cast<double>(batch.sign_attempts) / static_cast<double>(batch.txs.size()));
    std::printf("bytes held per prepared tx:      %.0f\n", batch.bytes_per_tx());
    std::printf("raw libsecp256k1 signatures/s:   %.0f (all threads, fc canonical retry)\n", raw_rate);
    std::printf("prepared transactions/s:         %.0f\n", rate);
    std::printf("prepare/raw-sign ratio: %.3f (%.0f tx/s vs %.0f sig/s; %.0f bytes/tx)\n", rate / raw_rate, rate, raw_rate,
                batch.bytes_per_tx());
    return 0;
}
