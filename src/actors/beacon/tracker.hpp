// Tracker: the life of every sent transaction — reply (accepted / rejected by class / unknown),
// inclusion in a block, or expiry without inclusion — and the latencies that go with them.
//
// It owns the prepared batches (the send queue and the record of every transaction). All calls
// come from the io thread; times are steady-clock nanoseconds supplied by the caller, so tests
// drive it without a network or a clock.
//
// Inclusion: the beacon subscribes to set_block_applied_callback, fetches each new block with
// get_block and hands the block's transactions to on_block(). Transactions are recognised by
// their first signature (an 8-byte prefix, indexed at prepare time): a signature is a function of
// the transaction id and the key, so it identifies the transaction as well as its id does
// without re-serialising every transaction of the block. Inclusion latency = the time the
// block notice arrived − the intended send time.
//
// Expiry: transactions are sent in sequence order and their expirations never decrease with it,
// so after a block with timestamp T every sent, not included transaction with expiration < T
// is dead (a block's transactions are checked against the previous block's time, so the block
// after the one stamped E may still hold a transaction expiring at E); a cursor per batch walks
// forward over them.
//
// Accounting (wire.hpp, StatsInterval): every sent transaction gets exactly one reply outcome —
// accepted, rejected, or unknown_outcome — and every accepted one exactly one fate — included,
// expired_unincluded, or pending_at_cutoff (finalize()). A reply that was lost (timeout,
// disconnect, malformed) is not counted until the chain decides: seen in a block → accepted and
// included; expired unseen, or still open at finalize() → unknown_outcome.
#pragma once

#include "actors/beacon/preparer.hpp"
#include "actors/beacon/stats.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

namespace bts::beacon {

// How one broadcast ended, from the client's point of view.
struct ReplyOutcome {
    enum class Kind : std::uint8_t {
        accepted,    // result (null expected)
        rejected,    // the node's error: code + message
        unknown,     // timeout or disconnect after sending: the tx may still be included
        bad_reply,   // an answer with neither result nor error: counted, outcome unknown
    };
    Kind kind = Kind::accepted;
    std::int64_t code = 0;
    std::string_view message;
    bool unexpected = false;  // accepted, but the result was not null
};

// One transaction of a block, as needed for matching.
struct BlockTx {
    std::uint64_t sig_key = 0;
    std::uint32_t ops = 0;
};

// Extracts timestamp and transactions' first-signature prefixes from a get_block result.
// Returns false (and leaves out partially filled) for a malformed block; never throws.
[[nodiscard]] bool parse_block(const nlohmann::json& block, std::uint32_t& timestamp, std::vector<BlockTx>& out);

class Tracker {
public:
    // Counters and histograms are written into the interval record `interval` (reset by its
    // owner each interval).
    Tracker(Counters& interval, Histograms& interval_hist);

    void add_batch(std::unique_ptr<PreparedBatch> batch);
    // First sequence number not yet prepared, and how many prepared are not yet sent.
    [[nodiscard]] std::uint64_t prepared_end() const;
    [[nodiscard]] std::uint64_t next_to_send() const { return next_send_; }
    [[nodiscard]] std::uint64_t ready() const { return prepared_end() - next_send_; }
    // The next transaction to send (sequence next_to_send()), nullptr if none is prepared.
    [[nodiscard]] PreparedTx* peek();
    // Marks peek() as sent and advances. Returns its sequence number.
    std::uint64_t mark_sent(std::int64_t intended_ns, std::int64_t now_ns);
    // Skip the next transaction without sending (it expired before it could be sent).
    void skip_unsendable();

    void on_reply(std::uint64_t n, const ReplyOutcome& outcome, std::int64_t now_ns);
    // A block was seen at observed_ns with the given timestamp and transactions.
    void on_block(std::uint32_t timestamp, const std::vector<BlockTx>& txs, std::int64_t observed_ns);

    // The end of tracking (a drain that finished, was capped or aborted): every reply still due
    // counts as unknown_outcome (or accepted, when the block was seen), every accepted
    // transaction neither included nor expired as pending_at_cutoff. After it the counts add up:
    // sent = accepted + rejected + unknown_outcome, accepted = included + expired + pending.
    void finalize();

    [[nodiscard]] std::uint64_t in_flight() const { return in_flight_; }
    // The latest expiration of anything sent (0 before the first send): after the chain passes
    // it, nothing of this run can be included any more.
    [[nodiscard]] std::uint32_t max_sent_expiration() const { return max_sent_expiration_; }
    // Sent transactions whose fate is still open: accepted or unknown, neither included nor expired.
    [[nodiscard]] std::uint64_t awaiting_inclusion() const { return awaiting_; }
    [[nodiscard]] std::uint64_t sent_total() const { return next_send_ - first_n_; }
    [[nodiscard]] std::uint32_t last_block_time() const { return last_block_time_; }
    [[nodiscard]] std::size_t batches() const { return batches_.size(); }
    // Memory held by prepared transactions now.
    [[nodiscard]] std::uint64_t bytes_held() const;
    // Record of sequence n, or nullptr once its batch has been released.
    [[nodiscard]] const PreparedTx* find(std::uint64_t n) const;

private:
    struct Slot {
        std::unique_ptr<PreparedBatch> batch;
        std::size_t expiry_cursor = 0;
        std::uint64_t open = 0;  // sent and not final (final = rejected, included, expired)
    };
    Slot* slot_of(std::uint64_t n);
    void resolve(Slot& s);
    void release_finished();

    Counters& c_;
    Histograms& h_;
    std::deque<Slot> batches_;
    std::uint64_t first_n_ = 0;   // first sequence number ever added
    bool have_first_ = false;
    std::uint64_t next_send_ = 0;
    std::uint64_t in_flight_ = 0;
    std::uint64_t awaiting_ = 0;
    std::uint32_t last_block_time_ = 0;
    std::uint32_t max_sent_expiration_ = 0;
};

}  // namespace bts::beacon
