// Test support: run the project's real programs as child processes (one-shot with stdin/stdout,
// or long-running servers), find built binaries, and pick free loopback ports.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace bts::test {

struct RunResult {
    int exit_code = -1;  // -1 if killed by a signal or timed out
    std::string out;
    std::string err;
};

// Runs `program args...` with `input` on stdin, waits at most `timeout`, captures stdout/stderr.
RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      const std::string& input = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Path of a built program: $BTS_BUILD_ROOT/<relative> (e.g. "src/tools/bts-tx/bts-tx").
std::string built_program(const std::string& relative);
// Path of a file in tests/data ($BTS_TEST_DATA).
std::string test_data(const std::string& name);

// A free TCP port on 127.0.0.1 (bound then released; good enough for tests).
std::uint16_t free_port();

// A fresh temporary directory, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    // Writes `content` to name with `mode` permissions; returns the path.
    std::string write(const std::string& name, const std::string& content, unsigned mode = 0644) const;

private:
    std::string path_;
};

// A long-running child (a server). stdout+stderr go to a log file that tests can read.
// The destructor sends SIGTERM, waits up to 5 s, then SIGKILL.
class ChildProcess {
public:
    ChildProcess(const std::string& program, const std::vector<std::string>& args,
                 const std::string& log_path);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    void signal(int sig);
    // Waits for exit; returns exit code (or 128+signal), -1 on timeout.
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    std::string log() const;
    // Polls the log until it contains `needle` (true) or the timeout passes / child exits (false).
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
    pid_t pid_ = -1;
    int status_ = 0;
    bool reaped_ = false;
    std::string log_path_;
};

}  // namespace bts::test
