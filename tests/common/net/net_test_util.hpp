// Helpers for the net tests: drive an io_context until a condition holds, temp dirs, test certificates.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>

namespace bts::net::test {

// Runs handlers until `done()` is true or `limit` passes; returns done().
inline bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Runs handlers for `period` (to let things settle or to prove that nothing happens).
inline void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds period) {
  const auto deadline = std::chrono::steady_clock::now() + period;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(5));
  }
}

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bts-net-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Generates a self-signed P-256 certificate valid for 3 days with the openssl CLI:
// <dir>/<name>.crt and <dir>/<name>.key. `san` is e.g. "DNS:localhost". True on success.
inline bool make_test_cert(const std::filesystem::path& dir, const std::string& name, const std::string& cn,
                           const std::string& san) {
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3 -nodes"
                          " -subj /CN=" + cn + " -addext subjectAltName=" + san +
                          " -keyout '" + (dir / (name + ".key")).string() + "' -out '" +
                          (dir / (name + ".crt")).string() + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace bts::net::test
