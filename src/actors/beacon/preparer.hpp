// Preparer: turns the factory's transactions into signed, ready-to-send JSON-RPC request bodies
// on all cores, before the run (and in the background during long runs). The hot send path then
// only prepends a request id and writes: no JSON building, no signing, no allocation per tx
// beyond the network buffer.
#pragma once

#include "actors/beacon/tx_factory.hpp"
#include "common/crypto/keys.hpp"
#include "common/protocol/json.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bts::beacon {

// Where a prepared transaction is in its life. Only the io thread changes it.
enum class TxState : std::uint8_t {
    prepared,   // not sent
    sent,       // broadcast, no reply yet
    accepted,   // the node answered null (in its pending state, not yet in a block)
    rejected,   // the node answered an error
    unknown,    // timed out or the connection dropped: may or may not have reached the node
    included,   // seen in a block
    expired,    // accepted/unknown, and the chain passed its expiration without including it
};

struct PreparedTx {
    // Everything after `{"id":N,` of the request, e.g.
    // `"method":"call","params":["network_broadcast","broadcast_transaction",[{...}]]}`.
    std::string body;
    protocol::TransactionId id;
    std::uint64_t sig_key = 0;  // first 8 bytes of the signature: finds the tx in get_block output
    std::uint32_t expiration = 0;   // unix seconds
    std::uint32_t signed_size = 0;  // packed bytes incl. signature
    std::uint16_t op_count = 0;
    // Tracking, on the io thread.
    TxState state = TxState::prepared;
    bool included = false;       // may be set before the reply arrives
    std::int64_t intended_ns = 0;  // steady clock
    std::int64_t sent_ns = 0;
};

// A run of consecutive transactions (sequence numbers first_n ..), signed together.
struct PreparedBatch {
    std::uint64_t first_n = 0;
    std::vector<PreparedTx> txs;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> by_sig;  // (sig_key, index), sorted
    std::uint32_t min_expiration = 0;
    std::uint32_t max_expiration = 0;
    std::uint64_t ops = 0;
    std::uint64_t sign_attempts = 0;  // nonces tried (fc-canonical needs ~2 per signature)
    double seconds = 0;               // wall time to build and sign
    unsigned threads = 0;
    bool cancelled = false;

    // Index of the transaction whose signature starts with sig_key, or -1.
    [[nodiscard]] std::int64_t find_by_sig(std::uint64_t sig_key) const;
    // Memory held for the batch (bodies, records, index) in bytes.
    [[nodiscard]] std::uint64_t bytes_held() const;
    [[nodiscard]] double bytes_per_tx() const {
        return txs.empty() ? 0.0 : static_cast<double>(bytes_held()) / static_cast<double>(txs.size());
    }
};

struct PrepareJob {
    TxFactory* factory = nullptr;  // used under a lock by the workers
    std::size_t count = 0;
    std::vector<const crypto::PrivateKey*> keys;  // by factory account index
    protocol::ChainId chain_id{};
    protocol::JsonOptions json;   // key prefix for memo keys
    std::string api_json = "\"network_broadcast\"";  // the API, as JSON text
    unsigned threads = 0;         // 0 = std::thread::hardware_concurrency()
    const std::atomic<bool>* cancel = nullptr;  // checked between transactions
};

// Builds and signs job.count transactions on job.threads threads; blocks until done (or
// cancelled: then `cancelled` is set and txs holds only the finished prefix).
[[nodiscard]] PreparedBatch prepare_batch(const PrepareJob& job, const crypto::Context& ctx);

// Builds the request body for one signed transaction (used by prepare_batch and tests).
void make_broadcast_body(std::string& out, std::string_view api_json, std::string_view tx_json);

}  // namespace bts::beacon
