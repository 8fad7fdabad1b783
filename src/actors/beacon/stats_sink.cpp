// StatsSink: non-blocking ZeroMQ PUSH of wire messages and JSON lines.
#include "actors/beacon/stats_sink.hpp"

#include <zmq.h>

#include <stdexcept>

namespace bts::beacon {

StatsSink::StatsSink(const std::vector<std::string>& sinks, void* zmq_context, LineWriter write_line)
    : write_line_(std::move(write_line)) {
    for (const auto& s : sinks) {
        if (s == "stdout") {
            json_ = true;
            continue;
        }
        if (s == "none" || s.empty()) continue;
        if (!zmq_context) throw std::runtime_error("stats sink " + s + ": no ZeroMQ context");
        void* sock = zmq_socket(zmq_context, ZMQ_PUSH);
        if (!sock) throw std::runtime_error("stats sink " + s + ": " + zmq_strerror(zmq_errno()));
        // Bounded queue while the collector is away; a short linger so the final interval is
        // still delivered at exit without hanging on a dead collector.
        int hwm = 1000, linger = 2000;
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect(sock, s.c_str()) != 0) {
            std::string why = zmq_strerror(zmq_errno());
            zmq_close(sock);
            throw std::runtime_error("stats sink " + s + ": " + why);
        }
        sockets_.push_back(sock);
    }
}

StatsSink::~StatsSink() {
    // The last intervals get their second copy now; the linger above gives it time to leave.
    resend_due(std::chrono::steady_clock::now(), true);
    for (void* s : sockets_) zmq_close(s);
}

void StatsSink::resend_due(std::chrono::steady_clock::time_point now, bool all) {
    while (!resend_queue_.empty() && (all || now - resend_queue_.front().first_sent >= kResendAfter)) {
        push_frame(resend_queue_.front().frame);
        ++resent_;
        resend_queue_.pop_front();
    }
}

void StatsSink::send_line(std::string_view line) {
    if (json_ && write_line_) write_line_(line);
}

void StatsSink::push_frame(const std::string& frame) {
    for (void* s : sockets_) {
        if (zmq_send(s, frame.data(), frame.size(), ZMQ_DONTWAIT) >= 0)
            ++pushed_;
        else
            ++push_failures_;
    }
}

void StatsSink::push(const wire::StatsInterval& s) {
    if (sockets_.empty()) return;
    auto now = std::chrono::steady_clock::now();
    resend_due(now, false);
    std::string frame = wire::encode(s);
    push_frame(frame);
    resend_queue_.push_back(Pending{now, std::move(frame)});
}

void StatsSink::push(const wire::RunEvent& e) {
    if (sockets_.empty()) return;
    push_frame(wire::encode(e));
}

}  // namespace bts::beacon
