// Preparer: parallel signing of factory transactions into ready request bodies.
#include "actors/beacon/preparer.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

namespace bts::beacon {

std::int64_t PreparedBatch::find_by_sig(std::uint64_t sig_key) const {
    auto it = std::lower_bound(by_sig.begin(), by_sig.end(), std::pair<std::uint64_t, std::uint32_t>{sig_key, 0});
    if (it == by_sig.end() || it->first != sig_key) return -1;
    return it->second;
}

std::uint64_t PreparedBatch::bytes_held() const {
    std::uint64_t n = sizeof(PreparedBatch) + txs.capacity() * sizeof(PreparedTx) +
                      by_sig.capacity() * sizeof(by_sig[0]);
    for (const auto& t : txs) n += t.body.capacity() > 15 ? t.body.capacity() + 1 : 0;  // beyond SSO
    return n;
}

void make_broadcast_body(std::string& out, std::string_view api_json, std::string_view tx_json) {
    static constexpr std::string_view kHead = R"("method":"call","params":[)";
    static constexpr std::string_view kMethod = R"(,"broadcast_transaction",[)";
    static constexpr std::string_view kTail = "]]}";
    out.clear();
    out.reserve(kHead.size() + api_json.size() + kMethod.size() + tx_json.size() + kTail.size());
    out.append(kHead).append(api_json).append(kMethod).append(tx_json).append(kTail);
}

PreparedBatch prepare_batch(const PrepareJob& job, const crypto::Context& ctx) {
    PreparedBatch batch;
    auto start = std::chrono::steady_clock::now();
    unsigned threads = job.threads ? job.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(job.count / 64, 1)));
    batch.threads = threads;
    batch.first_n = job.factory->generated();
    batch.txs.resize(job.count);

    std::mutex factory_mutex;
    std::size_t issued = 0;
    std::atomic<std::uint64_t> attempts{0};
    std::atomic<std::size_t> done{0};

    auto worker = [&] {
        GeneratedTx gen;
        protocol::Bytes unsigned_bytes;
        std::uint64_t my_attempts = 0;
        while (true) {
            if (job.cancel && job.cancel->load(std::memory_order_relaxed)) break;
            std::size_t idx;
            {
                std::lock_guard lock(factory_mutex);
                if (issued >= job.count) break;
                idx = issued++;
                job.factory->next(gen);
            }
            unsigned_bytes = protocol::pack_unsigned(gen.tx);
            PreparedTx& out = batch.txs[idx];
            out.id = protocol::transaction_id(unsigned_bytes);
            auto digest = protocol::signing_digest(job.chain_id, unsigned_bytes);
            int tries = 0;
            gen.tx.signatures.push_back(job.keys[gen.signer]->sign_compact(ctx, digest, &tries));
            my_attempts += static_cast<std::uint64_t>(tries);
            const auto& sig = gen.tx.signatures.back();
            std::uint64_t key = 0;
            for (int i = 0; i < 8; ++i) key = (key << 8) | sig[static_cast<std::size_t>(i)];
            out.sig_key = key;
            out.expiration = gen.tx.expiration.seconds;
            out.signed_size = static_cast<std::uint32_t>(unsigned_bytes.size() + 1 + 65);
            out.op_count = static_cast<std::uint16_t>(gen.tx.operations.size());
            make_broadcast_body(out.body, job.api_json, protocol::to_json_text(gen.tx, job.json));
            done.fetch_add(1, std::memory_order_relaxed);
        }
        attempts.fetch_add(my_attempts);
    };
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned i = 0; i + 1 < threads; ++i) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();

    // Workers finish in order of issue only approximately: keep the contiguous finished prefix.
    std::size_t finished = 0;
    while (finished < batch.txs.size() && !batch.txs[finished].body.empty()) ++finished;
    if (finished < batch.txs.size()) {
        batch.cancelled = true;
        batch.txs.resize(finished);
    }
    batch.sign_attempts = attempts.load();
    batch.by_sig.reserve(batch.txs.size());
    batch.min_expiration = batch.txs.empty() ? 0 : UINT32_MAX;
    for (std::uint32_t i = 0; i < batch.txs.size(); ++i) {
        const auto& t = batch.txs[i];
        batch.by_sig.emplace_back(t.sig_key, i);
        batch.ops += t.op_count;
        batch.min_expiration = std::min(batch.min_expiration, t.expiration);
        batch.max_expiration = std::max(batch.max_expiration, t.expiration);
    }
    std::sort(batch.by_sig.begin(), batch.by_sig.end());
    batch.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return batch;
}

}  // namespace bts::beacon
