// CtlClient: request/reply with the broker over DEALER (see ctl_client.hpp).
#include "common/control/ctl_client.hpp"

#include "common/control/curve.hpp"
#include "common/util/config.hpp"

#include <czmq.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>

namespace bts::control {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void CtlClientConfig::validate() const {
    using util::check_config;
    check_config(is_zmq_endpoint(broker), "ctl.broker", "\"" + broker + "\": expected a ZeroMQ endpoint such as tcp://host:5560");
    check_config(cert.empty() == broker_key.empty(), cert.empty() ? "ctl.cert" : "ctl.broker_key",
                 "CURVE needs both this client's secret certificate and the broker's public key");
    if (auto refused = check_plaintext(broker, !cert.empty(), insecure)) {
        throw util::ConfigError({}, "ctl.insecure", *refused);
    }
}

struct CtlClient::Impl {
    zsock_t* dealer = nullptr;
    zsock_t* monitor = nullptr;
    std::uint64_t next_id = 0;
};

CtlClient::CtlClient(const CtlClientConfig& config) : impl_(std::make_unique<Impl>()) {
    config.validate();
    std::optional<Certificate> cert;
    std::string server_key;
    if (!config.cert.empty()) {
        auto c = Certificate::load(config.cert);
        if (!c) throw util::ConfigError({}, "ctl.cert", c.error());
        if (!c->has_secret()) {
            throw util::ConfigError({}, "ctl.cert", config.cert + ": holds no secret key (give the NAME.key_secret file)");
        }
        auto s = Certificate::load(config.broker_key);
        if (!s) throw util::ConfigError({}, "ctl.broker_key", s.error());
        server_key = s->public_txt();
        cert.emplace(std::move(*c));
    }
    impl_->dealer = zsock_new(ZMQ_DEALER);
    if (impl_->dealer == nullptr) throw std::runtime_error("cannot create a ZeroMQ socket");
    zsock_set_linger(impl_->dealer, 0);
    zsock_set_maxmsgsize(impl_->dealer, 64 << 20);
    if (cert) cert->apply_client(impl_->dealer, server_key);
    // The monitor tells a refused handshake apart from a broker that is not there.
    char endpoint[64];
    std::snprintf(endpoint, sizeof endpoint, "inproc://bts-ctl-monitor-%p", static_cast<void*>(impl_.get()));
    if (zmq_socket_monitor(zsock_resolve(impl_->dealer), endpoint,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
        impl_->monitor = zsock_new(ZMQ_PAIR);
        if (impl_->monitor != nullptr && zsock_connect(impl_->monitor, "%s", endpoint) != 0) {
            zsock_destroy(&impl_->monitor);
        }
    }
    if (zsock_connect(impl_->dealer, "%s", config.broker.c_str()) != 0) {
        throw std::runtime_error("cannot connect to " + config.broker + ": " + zmq_strerror(zmq_errno()));
    }
    std::random_device rd;
    impl_->next_id = (static_cast<std::uint64_t>(rd()) << 20) + 1;
}

CtlClient::~CtlClient() {
    if (impl_->dealer != nullptr) zmq_socket_monitor(zsock_resolve(impl_->dealer), nullptr, 0);
    zsock_destroy(&impl_->monitor);
    zsock_destroy(&impl_->dealer);
}

util::Result<wire::CtlReply> CtlClient::request(std::string_view verb, std::string payload,
                                                util::Duration timeout) {
    failure_ = Failure::kNone;
    wire::CtlRequest req;
    req.request_id = impl_->next_id++;
    req.verb = std::string(verb);
    req.payload = std::move(payload);
    std::string frame = wire::encode(req);
    void* d = zsock_resolve(impl_->dealer);
    if (zmq_send(d, frame.data(), frame.size(), ZMQ_DONTWAIT) < 0) {
        failure_ = Failure::kTimeout;
        return util::Error{std::string("cannot queue the request: ") + zmq_strerror(zmq_errno())};
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    zmq_pollitem_t items[2] = {{d, 0, ZMQ_POLLIN, 0}, {nullptr, 0, ZMQ_POLLIN, 0}};
    int n = 1;
    if (impl_->monitor != nullptr) {
        items[1].socket = zsock_resolve(impl_->monitor);
        n = 2;
    }
    while (true) {
        auto left = duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) break;
        if (zmq_poll(items, n, static_cast<long>(left)) < 0) {
            if (zmq_errno() == EINTR) {
                failure_ = Failure::kTimeout;
                return util::Error{"interrupted"};
            }
            break;
        }
        if (n == 2 && (items[1].revents & ZMQ_POLLIN)) {
            zmsg_t* ev = zmsg_recv(impl_->monitor);
            if (ev != nullptr) {
                zframe_t* f = zmsg_first(ev);
                std::uint16_t event = 0;
                std::uint32_t value = 0;
                if (f != nullptr && zframe_size(f) >= 6) {
                    std::memcpy(&event, zframe_data(f), 2);
                    std::memcpy(&value, zframe_data(f) + 2, 4);
                }
                zmsg_destroy(&ev);
                if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
                    failure_ = Failure::kAuthRefused;
                    return util::Error{"the broker refused this client (ZAP status " +
                                       std::to_string(value) +
                                       "): its certificate is not in the broker's allow list"};
                }
                if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                    event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
                    failure_ = Failure::kAuthRefused;
                    return util::Error{"security handshake with the broker failed: wrong broker "
                                       "key, or the broker and this client disagree on CURVE"};
                }
            }
        }
        if (items[0].revents & ZMQ_POLLIN) {
            zmsg_t* m = zmsg_recv(impl_->dealer);
            if (m == nullptr) continue;
            std::optional<wire::CtlReply> reply;
            if (zmsg_size(m) == 1) {
                zframe_t* f = zmsg_first(m);
                auto msg = wire::decode(std::string_view(
                    reinterpret_cast<const char*>(zframe_data(f)), zframe_size(f)));
                if (msg) {
                    if (auto* r = std::get_if<wire::CtlReply>(&*msg)) {
                        if (r->request_id == req.request_id) reply = std::move(*r);
                    }
                }
            }
            zmsg_destroy(&m);
            if (reply) return std::move(*reply);
            // Anything else (a stale reply to an earlier, timed-out request): ignored.
        }
    }
    failure_ = Failure::kTimeout;
    return util::Error{"no reply from the broker within " + util::format_duration(timeout)};
}

}  // namespace bts::control
