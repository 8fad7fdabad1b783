// BlockWatcher: follows the chain for inclusion tracking on its OWN thread and connection, so
// that parsing large blocks (a 2 MB block is ~4 MB of JSON) never delays the sender's pacing.
//
// It subscribes with set_block_applied_callback (again after every reconnect, since the node
// forgets callbacks with the connection), fetches each new block with get_block — also the
// blocks it missed, up to a limit — reduces it to (timestamp, first-signature prefixes) and hands
// that to `on_block`, which runs on the OWNER's io_context (posted). Connects to the first node
// and fails over along the list like any other connection.
#pragma once

#include "actors/beacon/tracker.hpp"
#include "common/net/ws_client.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
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
    std::uint64_t missed = 0;        // blocks skipped after a gap larger than the catch-up limit
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
    BlockWatcher(boost::asio::io_context& owner, net::WsClientConfig config, OnBlock on_block,
                 std::shared_ptr<spdlog::logger> logger);
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
    std::uint32_t last_fetched_ = 0;
    struct Pending {
        std::uint32_t num;
        std::int64_t observed;
        protocol::BlockId id;
        bool has_id;
    };
    std::vector<Pending> queue_;  // FIFO
    std::size_t queue_head_ = 0;
    bool fetching_ = false;
    BlockWatcherCounters local_;

    mutable std::mutex mutex_;
    BlockWatcherCounters shared_;
};

}  // namespace bts::beacon
