// A minimal W3C WebDriver client for browser tests: starts chromedriver driving Debian's headless
// Chromium, opens pages, runs scripts, reads the console, saves screenshots and PDF prints.
// Blocking HTTP on loopback only.
#pragma once

#include "process.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace bts::test::browser {

inline constexpr const char* kChromium = "/usr/bin/chromium";
inline constexpr const char* kChromedriver = "/usr/bin/chromedriver";

inline bool available() { return ::access(kChromium, X_OK) == 0 && ::access(kChromedriver, X_OK) == 0; }

struct Reply {
    int status = 0;
    std::string body;
};

// One request with Connection: close; reads to EOF.
inline Reply http_request(std::uint16_t port, const std::string& method, const std::string& path,
                          const std::string& body = {}, int timeout_ms = 60'000) {
    Reply out;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return out;
    }
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!body.empty() || method == "POST") {
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    for (std::size_t off = 0; off < req.size();) {
        const ssize_t n = ::write(fd, req.data() + off, req.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
    }
    // Reads until the body is complete: chromedriver says "Connection: close" but keeps the
    // connection open, so EOF cannot be waited for when Content-Length is given.
    std::string all;
    char buf[65536];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, timeout_ms) > 0) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        all.append(buf, static_cast<std::size_t>(n));
        const auto hdr_end = all.find("\r\n\r\n");
        if (hdr_end == std::string::npos) continue;
        std::string head = all.substr(0, hdr_end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto cl = head.find("content-length:");
        if (cl == std::string::npos) continue;
        const std::size_t len = std::stoul(head.substr(cl + 15));
        if (all.size() >= hdr_end + 4 + len) break;
    }
    ::close(fd);
    const auto end = all.find("\r\n\r\n");
    if (all.size() < 12 || end == std::string::npos) return out;
    out.status = std::stoi(all.substr(9, 3));
    std::string raw = all.substr(end + 4);
    // chromedriver may answer chunked.
    if (all.substr(0, end).find("chunked") != std::string::npos) {
        std::string decoded;
        std::size_t pos = 0;
        while (pos < raw.size()) {
            const auto eol = raw.find("\r\n", pos);
            if (eol == std::string::npos) break;
            const std::size_t len = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
            if (len == 0) break;
            decoded += raw.substr(eol + 2, len);
            pos = eol + 2 + len + 2;
        }
        raw = std::move(decoded);
    }
    out.body = std::move(raw);
    return out;
}

inline std::string base64_decode(const std::string& in) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    int bits = 0, acc = 0;
    for (char c : in) {
        const int v = val(c);
        if (v < 0) continue;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

// chromedriver + one headless Chromium session with the flags this machine needs (closed
// network: no background traffic, no component updates, fresh profile).
class Browser {
public:
    Browser(const TempDir& dir, int width = 1280, int height = 900) {
        port_ = free_port();
        driver_ = std::make_unique<ChildProcess>(kChromedriver, std::vector<std::string>{"--port=" + std::to_string(port_)},
                                                 dir.file("chromedriver.log"));
        if (!driver_->wait_for_log("started successfully", std::chrono::seconds(20))) {
            throw std::runtime_error("chromedriver did not start: " + driver_->log());
        }
        const nlohmann::json caps = {
            {"capabilities",
             {{"alwaysMatch",
               {{"browserName", "chrome"},
                {"goog:loggingPrefs", {{"browser", "ALL"}}},
                {"goog:chromeOptions",
                 {{"binary", kChromium},
                  {"args",
                   {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars",
                    "--user-data-dir=" + dir.file("chromium-profile"),
                    "--window-size=" + std::to_string(width) + "," + std::to_string(height)}}}}}}}}};
        const auto r = call("POST", "/session", caps);
        session_ = r["value"]["sessionId"].get<std::string>();
    }
    ~Browser() {
        if (!session_.empty()) (void)http_request(port_, "DELETE", "/session/" + session_, {}, 10'000);
    }

    void open(const std::string& url) { call("POST", path("/url"), {{"url", url}}); }

    // Runs `script` (a function body) in the page and returns its value.
    nlohmann::json run(const std::string& script) {
        return call("POST", path("/execute/sync"), {{"script", script}, {"args", nlohmann::json::array()}})["value"];
    }

    // Polls `script` until it returns true or the timeout passes.
    bool wait_for(const std::string& script, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (run(script) == true) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return run(script) == true;
    }

    // Saves a PNG of the viewport.
    void screenshot(const std::string& file) {
        const auto r = call("GET", path("/screenshot"), nullptr);
        std::ofstream out(file, std::ios::binary);
        out << base64_decode(r["value"].get<std::string>());
    }

    // Saves a PNG of the first element matching `css` (scrolled into view).
    void element_screenshot(const std::string& css, const std::string& file) {
        const auto e = call("POST", path("/element"), {{"using", "css selector"}, {"value", css}})["value"];
        const std::string id = e.begin().value().get<std::string>();
        const auto r = call("GET", path("/element/" + id + "/screenshot"), nullptr);
        std::ofstream out(file, std::ios::binary);
        out << base64_decode(r["value"].get<std::string>());
    }

    // Prints the page to PDF (W3C Print Page; A4, backgrounds) and saves it.
    void print_pdf(const std::string& file) {
        const auto r = call("POST", path("/print"),
                            {{"background", true}, {"page", {{"width", 21.0}, {"height", 29.7}}}});
        std::ofstream out(file, std::ios::binary);
        out << base64_decode(r["value"].get<std::string>());
    }

    // The browser console since the last call (chromedriver's log endpoint): [{level, message}].
    nlohmann::json console_log() { return call("POST", path("/se/log"), {{"type", "browser"}})["value"]; }

private:
    std::string path(const std::string& p) const { return "/session/" + session_ + p; }

    nlohmann::json call(const std::string& method, const std::string& p, const nlohmann::json& body) {
        const Reply r = http_request(port_, method, p, body.is_null() ? std::string() : body.dump());
        const auto j = nlohmann::json::parse(r.body, nullptr, false);
        if (r.status != 200 || j.is_discarded()) {
            throw std::runtime_error("webdriver " + method + " " + p + ": HTTP " + std::to_string(r.status) + ": " +
                                     r.body.substr(0, 500));
        }
        return j;
    }

    std::uint16_t port_ = 0;
    std::unique_ptr<ChildProcess> driver_;
    std::string session_;
};

}  // namespace bts::test::browser
