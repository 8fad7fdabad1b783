// Tracker: replies, inclusion and expiry of sent transactions, and their latencies.
#include "actors/beacon/tracker.hpp"

#include "common/protocol/types.hpp"

#include <nlohmann/json.hpp>

namespace bts::beacon {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::uint64_t to_us(std::int64_t ns) {
    return ns > 0 ? static_cast<std::uint64_t>(ns / 1000) : 0;
}

bool is_final(const PreparedTx& t) {
    return t.state == TxState::rejected || t.state == TxState::included || t.state == TxState::expired ||
           t.state == TxState::prepared;
}

}  // namespace

bool parse_block(const nlohmann::json& block, std::uint32_t& timestamp, std::vector<BlockTx>& out) {
    out.clear();
    if (!block.is_object()) return false;
    auto ts = block.find("timestamp");
    if (ts == block.end() || !ts->is_string()) return false;
    auto t = protocol::from_iso_string(ts->get_ref<const std::string&>());
    if (!t) return false;
    timestamp = t->seconds;
    auto txs = block.find("transactions");
    if (txs == block.end()) return true;  // an empty block may omit it
    if (!txs->is_array()) return false;
    out.reserve(txs->size());
    for (const auto& tx : *txs) {
        if (!tx.is_object()) return false;
        BlockTx bt;
        auto ops = tx.find("operations");
        if (ops != tx.end() && ops->is_array()) bt.ops = static_cast<std::uint32_t>(ops->size());
        auto sigs = tx.find("signatures");
        if (sigs == tx.end() || !sigs->is_array() || sigs->empty() || !(*sigs)[0].is_string()) continue;
        const auto& hex = (*sigs)[0].get_ref<const std::string&>();
        if (hex.size() < 16) continue;
        std::uint64_t key = 0;
        bool ok = true;
        for (std::size_t i = 0; i < 16 && ok; ++i) {
            int v = hex_value(hex[i]);
            ok = v >= 0;
            key = (key << 4) | static_cast<std::uint64_t>(v < 0 ? 0 : v);
        }
        if (!ok) continue;
        bt.sig_key = key;
        out.push_back(bt);
    }
    return true;
}

Tracker::Tracker(Counters& interval, Histograms& interval_hist) : c_(interval), h_(interval_hist) {}

void Tracker::add_batch(std::unique_ptr<PreparedBatch> batch) {
    if (!batch || batch->txs.empty()) return;
    if (!have_first_) {
        first_n_ = batch->first_n;
        next_send_ = batch->first_n;
        have_first_ = true;
    }
    batches_.push_back(Slot{std::move(batch), 0, 0});
}

std::uint64_t Tracker::prepared_end() const {
    if (batches_.empty()) return next_send_;
    const auto& b = *batches_.back().batch;
    return b.first_n + b.txs.size();
}

Tracker::Slot* Tracker::slot_of(std::uint64_t n) {
    for (auto& s : batches_) {
        const auto& b = *s.batch;
        if (n >= b.first_n && n < b.first_n + b.txs.size()) return &s;
    }
    return nullptr;
}

const PreparedTx* Tracker::find(std::uint64_t n) const {
    for (const auto& s : batches_) {
        const auto& b = *s.batch;
        if (n >= b.first_n && n < b.first_n + b.txs.size()) return &b.txs[n - b.first_n];
    }
    return nullptr;
}

PreparedTx* Tracker::peek() {
    Slot* s = slot_of(next_send_);
    return s ? &s->batch->txs[next_send_ - s->batch->first_n] : nullptr;
}

std::uint64_t Tracker::mark_sent(std::int64_t intended_ns, std::int64_t now_ns) {
    Slot* s = slot_of(next_send_);
    if (s) {
        auto& t = s->batch->txs[next_send_ - s->batch->first_n];
        t.state = TxState::sent;
        t.intended_ns = intended_ns;
        t.sent_ns = now_ns;
        ++s->open;
        if (t.expiration > max_sent_expiration_) max_sent_expiration_ = t.expiration;
    }
    ++in_flight_;
    ++c_.sent;
    return next_send_++;
}

void Tracker::skip_unsendable() {
    ++next_send_;
    release_finished();
}

void Tracker::resolve(Slot& s) {
    if (s.open > 0) --s.open;
}

// Each sent transaction gets exactly one reply outcome (accepted, rejected or unknown) and each
// accepted one exactly one fate (included, expired or pending at the cutoff); see wire.hpp.
void Tracker::on_reply(std::uint64_t n, const ReplyOutcome& outcome, std::int64_t now_ns) {
    if (in_flight_ > 0) --in_flight_;
    if (outcome.unexpected) ++c_.unexpected_replies;
    Slot* s = slot_of(n);
    PreparedTx* t = s ? &s->batch->txs[n - s->batch->first_n] : nullptr;
    if (!t || t->state != TxState::sent) {
        ++c_.unexpected_replies;  // a second answer for one request: counted once already
        return;
    }
    switch (outcome.kind) {
        case ReplyOutcome::Kind::accepted:
            ++c_.accepted;
            h_.acceptance_from_intended.record(to_us(now_ns - t->intended_ns));
            h_.acceptance_from_send.record(to_us(now_ns - t->sent_ns));
            if (t->included) {
                t->state = TxState::included;  // counted included when the block was seen
                resolve(*s);
            } else {
                t->state = TxState::accepted;
                ++awaiting_;
            }
            break;
        case ReplyOutcome::Kind::rejected:
            ++c_.rejected[static_cast<std::size_t>(classify_rejection(outcome.code, outcome.message))];
            t->state = TxState::rejected;
            resolve(*s);
            break;
        case ReplyOutcome::Kind::unknown:
        case ReplyOutcome::Kind::bad_reply:
            if (t->included) {
                ++c_.accepted;  // the reply was lost, but the chain has it: the node took it
                t->state = TxState::included;
                resolve(*s);
            } else {
                t->state = TxState::unknown;  // its fate decides: included, or unknown_outcome
                ++awaiting_;
            }
            break;
    }
    release_finished();
}

void Tracker::on_block(std::uint32_t timestamp, const std::vector<BlockTx>& txs, std::int64_t observed_ns) {
    for (const auto& bt : txs) {
        for (auto& s : batches_) {
            std::int64_t i = s.batch->find_by_sig(bt.sig_key);
            if (i < 0) continue;
            auto& t = s.batch->txs[static_cast<std::size_t>(i)];
            if (t.included || t.state == TxState::prepared) break;
            t.included = true;
            ++c_.included_txs;
            c_.included_ops += t.op_count;
            h_.inclusion.record(to_us(observed_ns - t.intended_ns));
            switch (t.state) {
                case TxState::accepted:
                    --awaiting_;
                    t.state = TxState::included;
                    resolve(s);
                    break;
                case TxState::unknown:
                    ++c_.accepted;  // reply lost, but on chain
                    --awaiting_;
                    t.state = TxState::included;
                    resolve(s);
                    break;
                case TxState::expired:
                    // Cannot happen on a conforming chain (expiry is judged strictly below).
                    t.state = TxState::included;
                    ++c_.late_inclusions;
                    break;
                default:  // sent: the reply is still due; on_reply settles it as included
                    break;
            }
            break;
        }
    }
    if (timestamp > last_block_time_) last_block_time_ = timestamp;
    // Expiry: the chain applies a block's transactions at the previous block's time, so a
    // transaction expiring at E can still be in the block after the one stamped E; once a block
    // stamped T > E is seen, no later block can hold it.
    for (auto& s : batches_) {
        auto& b = *s.batch;
        while (s.expiry_cursor < b.txs.size() && b.first_n + s.expiry_cursor < next_send_) {
            auto& t = b.txs[s.expiry_cursor];
            if (is_final(t)) {
                ++s.expiry_cursor;
                continue;
            }
            if (t.state == TxState::sent || t.expiration >= last_block_time_) break;
            // accepted or reply lost, not included, and past its expiration
            if (t.state == TxState::accepted)
                ++c_.expired_unincluded;
            else
                ++c_.unknown_outcome;
            t.state = TxState::expired;
            if (awaiting_ > 0) --awaiting_;
            resolve(s);
            ++s.expiry_cursor;
        }
    }
    release_finished();
}

void Tracker::finalize() {
    for (auto& s : batches_) {
        auto& b = *s.batch;
        for (std::size_t i = 0; i < b.txs.size() && b.first_n + i < next_send_; ++i) {
            auto& t = b.txs[i];
            switch (t.state) {
                case TxState::sent:
                    if (t.included) {
                        ++c_.accepted;
                        t.state = TxState::included;
                    } else {
                        ++c_.unknown_outcome;
                        t.state = TxState::expired;
                    }
                    resolve(s);
                    break;
                case TxState::accepted:
                    ++c_.pending_at_cutoff;
                    t.state = TxState::expired;
                    resolve(s);
                    break;
                case TxState::unknown:
                    ++c_.unknown_outcome;
                    t.state = TxState::expired;
                    resolve(s);
                    break;
                default:
                    break;
            }
        }
    }
    in_flight_ = 0;
    awaiting_ = 0;
    release_finished();
}

void Tracker::release_finished() {
    // Only from the front, so the remaining batches stay contiguous in sequence numbers. A batch
    // whose every transaction was sent (or skipped) and has no open one is done with.
    while (!batches_.empty()) {
        const auto& s = batches_.front();
        const auto& b = *s.batch;
        if (next_send_ < b.first_n + b.txs.size() || s.open > 0) break;
        batches_.pop_front();
    }
}

std::uint64_t Tracker::bytes_held() const {
    std::uint64_t n = 0;
    for (const auto& s : batches_) n += s.batch->bytes_held();
    return n;
}

}  // namespace bts::beacon
