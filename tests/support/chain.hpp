// Test support: the chain side of a run's accounting, counted from a node's own blocks over its
// websocket API (get_dynamic_global_properties, get_block), never from the beacons' counters.
#pragma once

#include <cstdint>
#include <string>

namespace bts::test {

struct ChainCount {
    std::uint32_t head = 0;    // the head block when counting ended
    std::uint64_t blocks = 0;  // blocks read
    std::uint64_t txs = 0;     // transactions in them
    std::uint64_t ops = 0;     // operations in them
};

// The node's head block number (ws://127.0.0.1:PORT). Throws std::runtime_error naming the URL
// when the node cannot be asked.
std::uint32_t head_block(const std::string& ws_url);

// Counts every transaction in blocks first_block..head of the node.
ChainCount count_chain(const std::string& ws_url, std::uint32_t first_block = 1);

// Waits until the node has produced a block after the current head (so a transaction accepted
// before the call is in a block or never will be), then counts from first_block.
ChainCount count_chain_settled(const std::string& ws_url, std::uint32_t first_block = 1);

}  // namespace bts::test
