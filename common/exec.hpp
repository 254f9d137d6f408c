#pragma once
// Running external commands. Every command is an argv list handed to Boost.Process: no shell ever
// parses a string we built. A CommandRunner is injectable so actuators and the testbed can be tested
// against a recording fake; ProcessRunner is the real one.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace wgopt {

struct Command {
  std::vector<std::string> argv;          // argv[0] is a program name (looked up in PATH) or a path
  std::string stdin_data;                  // written to the child's stdin, then stdin is closed
  std::chrono::milliseconds timeout{30000};  // the child is killed (SIGKILL) when it runs longer
  // Polled about every 50 ms while the child runs; returning true kills the child (early stopping).
  std::function<bool()> should_stop;
  // false: the child's stdout/stderr go to /dev/null. Needed for programs that daemonise and would
  // otherwise keep our pipes open (wireguard-go, iperf3 -D).
  bool capture_output = true;
};

struct CommandResult {
  int exit_code = -1;      // exit status; -1 when killed by a signal or never started
  int signal = 0;          // the signal that ended it, 0 if it exited
  bool timed_out = false;  // we killed it because Command::timeout passed
  bool stopped = false;    // we killed it because Command::should_stop returned true
  bool not_found = false;  // argv[0] is not an executable on PATH
  std::string out;
  std::string err;
  double seconds = 0;      // wall time

  bool ok() const { return exit_code == 0 && !timed_out && !stopped && !not_found; }
  // "exit 2: <first line of stderr>", "timed out after 5 s", "not found"; for error messages.
  std::string brief() const;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual CommandResult run(const Command& cmd) = 0;
};

// Runs commands for real through Boost.Process.
class ProcessRunner : public CommandRunner {
 public:
  CommandResult run(const Command& cmd) override;
};

// The process-wide real runner.
std::shared_ptr<CommandRunner> default_runner();

// Absolute path of `name` on PATH (or name itself if it contains '/' and is executable); empty if
// there is none.
std::string find_executable(const std::string& name);

// Convenience: run, and throw wgopt::Error("<what>: <argv0> <brief>") unless it succeeded.
CommandResult run_checked(CommandRunner& runner, const Command& cmd, const std::string& what);

// Renders argv for logs and error messages (quoted where needed). Never executed.
std::string render_argv(const std::vector<std::string>& argv);

}  // namespace wgopt
