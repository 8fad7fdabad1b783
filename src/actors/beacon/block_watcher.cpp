// BlockWatcher: block notices and get_block on a dedicated thread and connection.
#include "actors/beacon/block_watcher.hpp"

#include "common/crypto/hash.hpp"
#include "common/util/log.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <nlohmann/json.hpp>

namespace bts::beacon {

namespace {
constexpr std::uint64_t kBlockCallbackId = 0xB10C;
constexpr std::uint32_t kMaxCatchUp = 2000;  // blocks fetched behind the head after a gap
constexpr std::uint32_t kMaxAttempts = 6;    // get_block tries per block (backoff 100 ms .. 1.6 s)

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

BlockWatcher::BlockWatcher(boost::asio::io_context& owner, net::WsClientConfig config, OnBlock on_block,
                           std::shared_ptr<spdlog::logger> logger, std::uint32_t first_block)
    : owner_(owner),
      on_block_(std::move(on_block)),
      log_(logger ? std::move(logger) : spdlog::default_logger()),
      first_block_(first_block) {
    retry_timer_ = std::make_unique<boost::asio::steady_timer>(ioc_);
    config.logger = log_;
    client_ = std::make_unique<net::WsClient>(ioc_, std::move(config));
    client_->on_notice(kBlockCallbackId, [this](nlohmann::json&& args) { on_notice(std::move(args)); });
    client_->on_state([this](net::WsState st, const net::ConnectInfo&, std::string_view) {
        if (st == net::WsState::connected) {
            // Requests of the old connection died with it: whatever was being fetched or
            // waiting for a retry is fetched again (the queue still holds it).
            ++fetch_gen_;
            fetching_ = false;
            retry_timer_->cancel();
            subscribe();
            fetch_next();
        }
        publish_counters();
    });
    boost::asio::post(ioc_, [this] { client_->start(); });
    thread_ = std::thread([this] {
        auto guard = boost::asio::make_work_guard(ioc_);
        ioc_.run();
    });
}

BlockWatcher::~BlockWatcher() {
    boost::asio::post(ioc_, [this] {
        retry_timer_->cancel();
        client_->stop();
    });
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
    client_.reset();
}

BlockWatcherCounters BlockWatcher::counters() const {
    std::lock_guard lock(mutex_);
    return shared_;
}

void BlockWatcher::publish_counters() {
    local_.connection = client_->counters();
    std::lock_guard lock(mutex_);
    shared_ = local_;
}

void BlockWatcher::subscribe() {
    client_->call(net::RpcApi{std::int64_t{0}}, "set_block_applied_callback",
                  nlohmann::json::array({kBlockCallbackId}), [this](net::RpcResult&& r) {
                      if (!r.ok()) {
                          ++local_.subscribe_errors;
                          log_->warn("set_block_applied_callback failed ({} {}): inclusion is not measured",
                                     net::to_string(r.kind), util::printable(util::redact(r.message), 200));
                      }
                      publish_counters();
                  });
}

void BlockWatcher::on_notice(nlohmann::json&& args) {
    std::int64_t observed = steady_ns();
    std::optional<std::array<std::uint8_t, 20>> bytes;
    if (args.is_array() && !args.empty() && args[0].is_string())
        bytes = crypto::from_hex_fixed<20>(args[0].get_ref<const std::string&>());
    if (!bytes) {
        ++local_.bad_notices;
        publish_counters();
        return;
    }
    protocol::BlockId id;
    id.data = *bytes;
    std::uint32_t num = protocol::block_num_from_id(id);
    if (next_queue_ == 0) next_queue_ = first_block_ && first_block_ <= num ? first_block_ : num;
    if (num < next_queue_) return;  // an old notice (e.g. replayed after a reconnect)
    if (num - next_queue_ >= kMaxCatchUp) {
        local_.missed += num - next_queue_ - kMaxCatchUp + 1;
        log_->warn("block watcher: {} block(s) before #{} skipped (more than {} behind)",
                   num - next_queue_ - kMaxCatchUp + 1, num - kMaxCatchUp + 1, kMaxCatchUp);
        next_queue_ = num - kMaxCatchUp + 1;
    }
    for (std::uint32_t b = next_queue_; b <= num; ++b) queue_.push_back({b, observed, id, b == num});
    next_queue_ = num + 1;
    fetch_next();
}

void BlockWatcher::fetch_next() {
    if (fetching_ || queue_.empty() || !client_->connected()) return;
    Pending p = queue_.front();
    fetching_ = true;
    const std::uint64_t gen = fetch_gen_;
    client_->call(net::RpcApi{std::int64_t{0}}, "get_block", nlohmann::json::array({p.num}),
                  [this, p, gen](net::RpcResult&& r) mutable {
                      if (gen != fetch_gen_) return;  // a request of a connection since replaced
                      fetching_ = false;
                      BlockSeen seen;
                      bool parsed = false;
                      if (r.ok() && !r.result.is_null()) {
                          seen.num = p.num;
                          seen.observed_ns = p.observed;
                          seen.id = p.id;
                          seen.has_id = p.has_id;
                          parsed = parse_block(r.result, seen.timestamp, seen.txs);
                          if (!parsed) ++local_.bad_notices;
                      }
                      if (!parsed && ++p.attempts < kMaxAttempts && !(r.ok() && !r.result.is_null())) {
                          // An error, a timeout or null (not there yet): the same block again,
                          // later; blocks after it wait, so they are handed over in order.
                          ++local_.retries;
                          if (!r.ok()) ++local_.fetch_errors;
                          queue_.front().attempts = p.attempts;
                          fetching_ = true;
                          retry_timer_->expires_after(std::chrono::milliseconds(100L << (p.attempts - 1)));
                          retry_timer_->async_wait([this, gen](const boost::system::error_code& ec) {
                              if (ec || gen != fetch_gen_) return;
                              fetching_ = false;
                              fetch_next();
                          });
                          publish_counters();
                          return;
                      }
                      queue_.pop_front();
                      if (parsed) {
                          ++local_.blocks;
                          boost::asio::post(owner_, [cb = on_block_, s = std::move(seen)]() mutable { cb(std::move(s)); });
                      } else {
                          ++local_.missed;
                          log_->warn("block watcher: block #{} could not be fetched: {}", p.num,
                                     r.ok() ? std::string("no such block / unreadable") : util::printable(util::redact(r.message), 200));
                      }
                      publish_counters();
                      fetch_next();
                  });
}

}  // namespace bts::beacon
