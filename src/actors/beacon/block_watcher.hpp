// BlockWatcher: follows the chain for inclusion tracking on its OWN thread and connection, so
// that parsing large blocks (a 2 MB block is ~4 MB of JSON) never delays the sender's pacing.
//
// It subscribes with set_block_applied_callback (again after every reconnect, since the node
// forgets callbacks with the connection) and fetches EVERY block from `first_block` on with
// get_block, in order — the notified one and every block between it and the last one fetched
// (blocks applied before the subscription took effect, or while disconnected), up to
// kMaxCatchUp behind the head. A fetch that fails or answers null (a node behind after
// failover) is retried with backoff; only after the retries is a block counted as missed. Each
// block is reduced to (timestamp, first-signature prefixes) and handed to `on_block`, which
// runs on the OWNER's io_context (posted), in block order. Connects to the first node and fails
// over along the list like any other connection.
//
// Why from a fixed first block: a beacon starts sending before this connection has subscribed;
// a block applied in between would otherwise never be looked at, and its transactions would
// wait for inclusion until they expire (seen as "10 transactions not yet included").
#pragma once

#include "actors/beacon/tracker.hpp"
#include "common/net/ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bts::beacon {

struct BlockSeen {
    std::uint32_t num = 0;
    protocol::BlockId id{};
    bool has_id = false;  // the id is known for notified blocks, not for caught-up ones
    std::uint32_t timestamp = 0;
    std::int64_t observed_ns = 0;  // steady clock: when the block's notice arrived
    std::vector<BlockTx> txs;
};

struct BlockWatcherCounters {
    std::uint64_t blocks = 0;
    std::uint64_t missed = 0;        // blocks skipped: a gap beyond the catch-up limit, or retries exhausted
    std::uint64_t retries = 0;       // get_block calls repeated after an error or a null answer
    std::uint64_t bad_notices = 0;   // notices or blocks that did not parse
    std::uint64_t fetch_errors = 0;
    std::uint64_t subscribe_errors = 0;
    net::WsClientCounters connection;
};

class BlockWatcher {
public:
    using OnBlock = std::function<void(BlockSeen&& block)>;

    // Starts the thread and connects. `owner` is where on_block runs. Throws std::invalid_argument
    // for a bad client config (start-up only).
    // first_block: the first block to fetch (e.g. the head at discovery + 1); 0 = from the
    // first notice on.
    BlockWatcher(boost::asio::io_context& owner, net::WsClientConfig config, OnBlock on_block,
                 std::shared_ptr<spdlog::logger> logger, std::uint32_t first_block = 0);
    // Stops the thread; blocks already posted to the owner may still run (guard them).
    ~BlockWatcher();
    BlockWatcher(const BlockWatcher&) = delete;
    BlockWatcher& operator=(const BlockWatcher&) = delete;

    // Thread-safe snapshot.
    [[nodiscard]] BlockWatcherCounters counters() const;

private:
    void subscribe();
    void on_notice(nlohmann::json&& args);
    void fetch_next();
    void publish_counters();

    boost::asio::io_context& owner_;
    boost::asio::io_context ioc_;
    std::unique_ptr<net::WsClient> client_;
    OnBlock on_block_;
    std::shared_ptr<spdlog::logger> log_;
    std::thread thread_;

    // Watcher thread only.
    std::uint32_t first_block_ = 0;
    std::uint32_t next_queue_ = 0;  // the next block number to queue (0: not known yet)
    struct Pending {
        std::uint32_t num;
        std::int64_t observed;
        protocol::BlockId id;
        bool has_id;
        std::uint32_t attempts = 0;
    };
    std::deque<Pending> queue_;  // FIFO, in block order
    bool fetching_ = false;
    std::uint64_t fetch_gen_ = 0;  // bumped on reconnect: answers of older requests are ignored
    std::unique_ptr<boost::asio::steady_timer> retry_timer_;
    BlockWatcherCounters local_;

    mutable std::mutex mutex_;
    BlockWatcherCounters shared_;
};

}  // namespace bts::beacon
