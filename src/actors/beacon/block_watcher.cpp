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
constexpr std::uint32_t kMaxCatchUp = 100;  // missed blocks fetched after a gap

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

BlockWatcher::BlockWatcher(boost::asio::io_context& owner, net::WsClientConfig config, OnBlock on_block,
                           std::shared_ptr<spdlog::logger> logger)
    : owner_(owner), on_block_(std::move(on_block)), log_(logger ? std::move(logger) : spdlog::default_logger()) {
    config.logger = log_;
    client_ = std::make_unique<net::WsClient>(ioc_, std::move(config));
    client_->on_notice(kBlockCallbackId, [this](nlohmann::json&& args) { on_notice(std::move(args)); });
    client_->on_state([this](net::WsState st, const net::ConnectInfo&, std::string_view) {
        if (st == net::WsState::connected) {
            fetching_ = false;  // requests of the old connection failed with it
            subscribe();
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
    boost::asio::post(ioc_, [this] { client_->stop(); });
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
                                     net::to_string(r.kind), util::redact(r.message.substr(0, 200)));
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
    std::uint32_t from = last_fetched_ ? last_fetched_ + 1 : num;
    if (queue_head_ < queue_.size()) from = std::max(from, queue_.back().num + 1);
    if (num >= from && num - from >= kMaxCatchUp) {
        local_.missed += num - from - kMaxCatchUp + 1;
        from = num - kMaxCatchUp + 1;
    }
    if (queue_head_ == queue_.size()) {
        queue_.clear();
        queue_head_ = 0;
    }
    for (std::uint32_t b = from; b >= from && b <= num; ++b) queue_.push_back({b, observed, id, b == num});
    fetch_next();
}

void BlockWatcher::fetch_next() {
    if (fetching_ || queue_head_ >= queue_.size() || !client_->connected()) return;
    Pending p = queue_[queue_head_++];
    fetching_ = true;
    client_->call(net::RpcApi{std::int64_t{0}}, "get_block", nlohmann::json::array({p.num}),
                  [this, p](net::RpcResult&& r) {
                      const std::uint32_t num = p.num;
                      fetching_ = false;
                      last_fetched_ = std::max(last_fetched_, num);
                      if (!r.ok()) {
                          ++local_.fetch_errors;
                      } else if (!r.result.is_null()) {
                          BlockSeen seen;
                          seen.num = num;
                          seen.observed_ns = p.observed;
                          seen.id = p.id;
                          seen.has_id = p.has_id;
                          if (parse_block(r.result, seen.timestamp, seen.txs)) {
                              ++local_.blocks;
                              boost::asio::post(owner_, [cb = on_block_, s = std::move(seen)]() mutable { cb(std::move(s)); });
                          } else {
                              ++local_.bad_notices;
                          }
                      }
                      publish_counters();
                      fetch_next();
                  });
}

}  // namespace bts::beacon
