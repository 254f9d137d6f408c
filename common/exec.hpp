#pragma once
// Running external commands. Every command is an argv list handed to Boost.Process: no shell ever
// parses a string we built. A CommandRunner is injectable so actuators and the testbed can be tested
// against a recording fake; ProcessRunner is the real one.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
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
  // true: the child is killed (SIGKILL) when wgopt dies, even by SIGKILL or the OOM killer
  // (PR_SET_PDEATHSIG, set in the child before exec). The kernel sends it when the *thread* that
  // forked ends; run() blocks that thread until the child has exited, so the child never outlives
  // it except with the whole process. false only for programs started to outlive wgopt on purpose
  // (daemons: wireguard-go, the testbed's `iperf3 -D`); those start in a session of their own
  // (setsid), out of reach of the terminal's Ctrl-C and hang-up.
  bool dies_with_wgopt = true;
  // true: the child leads a new process group, and the whole group is killed (SIGKILL) when the
  // command ends: at its timeout, when should_stop says so, and after the child exits (whatever it
  // left running in the background). For commands whose helpers are never ours to keep, such as
  // `wgopt optimize`'s evaluator. The group is not in the terminal's foreground: a Ctrl-C reaches
  // wgopt only, which stops the command through should_stop.
  bool own_process_group = false;
  // At most this many bytes of stdout and of stderr are kept: the last ones (CommandResult says
  // how many were dropped). 0 keeps everything.
  std::size_t keep_bytes = 0;
  // Called with each piece of stdout as it arrives, before keep_bytes drops any (to find a line in
  // output too large to keep). An exception it throws is caught and ends its calls, not the command.
  std::function<void(std::string_view)> on_stdout;
  // Once the child has exited, its pipes are read for at most this long: a process it left behind
  // (or a sibling that inherited them) may keep them open for good.
  std::chrono::milliseconds exit_grace{1000};
};

struct CommandResult {
  int exit_code = -1;      // exit status; -1 when killed by a signal or never started
  int signal = 0;          // the signal that ended it, 0 if it exited
  bool timed_out = false;  // we killed it because Command::timeout passed
  bool stopped = false;    // we killed it because Command::should_stop returned true
  bool not_found = false;  // argv[0] is not an executable on PATH
  std::string out;         // stdout (its last Command::keep_bytes when that is set)
  std::string err;         // stderr (likewise)
  std::size_t out_dropped = 0;  // bytes of stdout not kept (Command::keep_bytes)
  std::size_t err_dropped = 0;
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

// While `path` is not empty, every child a ProcessRunner has kept running for a second or more is
// listed there ("PID START_TIME" lines, START_TIME as in /proc/PID/stat field 22; the file is
// rewritten when one is added or ends) so the guardian (experiments/watchdog.hpp) can end what a
// dead wgopt left behind. Short commands never touch the file. Empty: stop listing and remove it.
// Writing the list is best effort (a full disk only loses the list; PR_SET_PDEATHSIG still acts).
void list_long_children_in(const std::string& path);

// The pids and start times in a list written by list_long_children_in (unreadable lines skipped).
std::vector<std::pair<int, long long>> read_children_list(const std::string& path);

// Convenience: run, and throw wgopt::Error("<what>: <argv0> <brief>") unless it succeeded.
CommandResult run_checked(CommandRunner& runner, const Command& cmd, const std::string& what);

// Renders argv for logs and error messages (quoted where needed). Never executed.
std::string render_argv(const std::vector<std::string>& argv);

}  // namespace wgopt
