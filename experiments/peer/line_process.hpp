#pragma once
// A child process spoken to in lines: its stdin is ours to write, its stdout is split into lines
// (LineFramer, bounded) and handed to a callback on a reader thread, its stderr is handed line by
// line to another callback and its last 8 KiB kept for error messages. The transport under the peer
// client: the child is `ssh ... wgopt __agent` (or, in tests, a local agent or a fake one).
//
// Started through Boost.Process with an argv list (never a shell), in its own process group so a
// Ctrl-C meant for wgopt does not kill the session before wgopt has put the peer back.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "experiments/peer/protocol.hpp"

namespace wgopt::peer {

struct ExitStatus {
  int code = -1;    // exit code, -1 when ended by a signal
  int signal = 0;   // the signal that ended it, 0 when it exited
};

class LineProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] looked up on PATH (or a path)
    size_t max_line = kMaxReplyBytes;
    // Called on the reader thread for each stdout line, and once with nullopt at EOF.
    std::function<void(std::optional<LineFramer::Line>)> on_line;
    // Called on the stderr thread for each stderr line (logs); may be empty.
    std::function<void(const std::string&)> on_stderr;
  };

  // Starts the child. Throws Error naming argv[0] when it is not on PATH or cannot be started.
  explicit LineProcess(Options options);
  ~LineProcess();  // kill(), then joins the threads and reaps the child
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;

  // Writes `line` + '\n' (thread-safe). False when the child no longer reads its stdin.
  bool send(const std::string& line);
  // Closes the child's stdin: it reads EOF.
  void close_stdin();
  // SIGKILL to the child (idempotent).
  void kill();
  // Waits up to `timeout` for the child to exit; its status once it has (cached).
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  // The last 8 KiB of the child's stderr. Once the child has exited, waits (up to 1 s) until its
  // stderr is read to the end, so an error message is never cut off.
  std::string stderr_tail();
  int pid() const { return pid_; }

 private:
  void read_stdout();
  void read_stderr();

  Options opt_;
  int pid_ = 0;
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::mutex write_mu_;
  mutable std::mutex err_mu_;
  std::condition_variable err_cv_;
  bool err_done_ = false;
  std::string err_tail_;
  std::mutex exit_mu_;
  std::optional<ExitStatus> exit_;
  std::thread out_thread_, err_thread_;
};

}  // namespace wgopt::peer
