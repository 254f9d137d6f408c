#include "common/exec.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cstdlib>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace bp = boost::process;

namespace wgopt {

namespace {
bool is_executable(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string first_line(const std::string& s) {
  auto start = s.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return {};
  auto end = s.find('\n', start);
  return s.substr(start, end == std::string::npos ? std::string::npos : end - start);
}
}  // namespace

std::string CommandResult::brief() const {
  if (not_found) return "not found on PATH";
  if (timed_out) return fmt::format("timed out after {:.0f} s and was killed", seconds);
  if (stopped) return "stopped early";
  if (signal != 0) return fmt::format("killed by signal {}", signal);
  std::string line = first_line(err);
  if (line.empty()) line = first_line(out);
  if (line.empty()) return fmt::format("exit {}", exit_code);
  return fmt::format("exit {}: {}", exit_code, line);
}

std::string find_executable(const std::string& name) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return is_executable(name) ? name : std::string{};
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  // Root's tools (ip, tc, ethtool) live in sbin, which a user's PATH may lack.
  path += ":/usr/local/sbin:/usr/sbin:/sbin";
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find(':', pos);
    if (next == std::string::npos) next = path.size();
    std::string dir = path.substr(pos, next - pos);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (is_executable(candidate)) return candidate;
    }
    pos = next + 1;
  }
  return {};
}

std::string render_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>(){}*?!#~") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) {
        if (c == '\'') out += "'\\''"; else out += c;
      }
      out += '\'';
    }
  }
  return out;
}

namespace {

// One output stream of the child, kept whole or as its last `keep` bytes.
struct Capture {
  std::size_t keep = 0;
  std::function<void(std::string_view)> tap;
  std::string data;
  std::size_t dropped = 0;
  bool eof = false;
  std::array<char, 65536> buf{};

  void add(const char* p, std::size_t n) {
    if (tap) {
      try {
        tap(std::string_view(p, n));
      } catch (const std::exception& e) {
        spdlog::debug("exec: output callback failed ({}): no more calls", e.what());
        tap = nullptr;
      }
    }
    data.append(p, n);
    if (keep > 0 && data.size() > 2 * keep) trim();  // amortised: trim once it doubles
  }
  void trim() {
    if (keep == 0 || data.size() <= keep) return;
    dropped += data.size() - keep;
    data.erase(0, data.size() - keep);
  }
};

// Reads `pipe` into `cap` until end of file or an error (closing the pipe cancels it).
void read_into(bp::async_pipe& pipe, Capture& cap) {
  pipe.async_read_some(boost::asio::buffer(cap.buf), [&pipe, &cap](const boost::system::error_code& ec, std::size_t n) {
    if (n > 0) cap.add(cap.buf.data(), n);
    if (ec) {
      cap.eof = true;
      return;
    }
    read_into(pipe, cap);
  });
}

// True once `pid` has exited; it is not reaped (WNOWAIT), so neither its pid nor its process
// group id can be reused while we still signal them.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

// Kills the child, or its whole process group when it leads one.
void kill_child(pid_t pid, bool group) { ::kill(group ? -pid : pid, SIGKILL); }

// The list the guardian reads (list_long_children_in).
class ChildList {
 public:
  static ChildList& instance() {
    static ChildList list;
    return list;
  }
  void set_path(const std::string& path) {
    std::lock_guard lk(mu_);
    if (path.empty() && !path_.empty()) ::unlink(path_.c_str());
    path_ = path;
    children_.clear();
  }
  // False when no list is kept (nothing to remove later).
  bool add(pid_t pid) {
    std::lock_guard lk(mu_);
    if (path_.empty()) return false;
    children_[pid] = process_start_time(pid);
    write_locked();
    return true;
  }
  void remove(pid_t pid) {
    std::lock_guard lk(mu_);
    if (children_.erase(pid) > 0 && !path_.empty()) write_locked();
  }

 private:
  void write_locked() {
    std::string text;
    for (const auto& [pid, start] : children_) text += fmt::format("{} {}\n", pid, start);
    try {
      write_file_atomic(path_, text, 0600);
    } catch (const std::exception& e) {
      spdlog::debug("exec: cannot list long-running children in {}: {}", path_, e.what());
    }
  }
  std::mutex mu_;
  std::string path_;
  std::map<pid_t, long long> children_;
};

// Runs in the child between fork and exec (async-signal-safe calls only).
struct ChildSetup {
  pid_t parent;
  bool group, die_with_parent;
  void operator()() const {
    if (group) ::setpgid(0, 0);
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // wgopt died before the line above took effect
    }
  }
};

}  // namespace

CommandResult ProcessRunner::run(const Command& cmd) {
  // A child that exits before reading its stdin must not kill us with SIGPIPE.
  static std::once_flag sigpipe_once;
  std::call_once(sigpipe_once, [] { ::signal(SIGPIPE, SIG_IGN); });

  CommandResult res;
  if (cmd.argv.empty()) throw Error("internal: empty command");
  const std::string exe = find_executable(cmd.argv[0]);
  if (exe.empty()) {
    res.not_found = true;
    return res;
  }
  std::vector<std::string> args(cmd.argv.begin() + 1, cmd.argv.end());
  spdlog::debug("exec: {}", render_argv(cmd.argv));

  const auto t0 = std::chrono::steady_clock::now();
  boost::asio::io_context ios;
  bp::async_pipe in_pipe(ios), out_pipe(ios), err_pipe(ios);
  Capture out{.keep = cmd.keep_bytes, .tap = cmd.on_stdout}, err{.keep = cmd.keep_bytes};
  const ChildSetup setup{::getpid(), cmd.own_process_group, cmd.dies_with_wgopt};
  auto on_exec = bp::extend::on_exec_setup([setup](auto&) { setup(); });
  std::error_code ec;
  bp::child child;
  try {
    if (cmd.capture_output) {
      child = bp::child(exe, bp::args(args), bp::std_in < in_pipe, bp::std_out > out_pipe, bp::std_err > err_pipe,
                        on_exec, ec);
    } else {
      child = bp::child(exe, bp::args(args), bp::std_in < in_pipe, bp::std_out > bp::null, bp::std_err > bp::null,
                        on_exec, ec);
    }
  } catch (const std::exception& e) {
    throw Error(fmt::format("cannot start {}: {}", render_argv(cmd.argv), e.what()));
  }
  if (ec) throw Error(fmt::format("cannot start {}: {}", render_argv(cmd.argv), ec.message()));
  const pid_t pid = child.id();
  // Unwinding (an exception from the loop) must not leave the child or its group running.
  struct Reaper {
    bp::child& child;
    pid_t pid;
    bool group;
    bool armed = true;
    ~Reaper() {
      if (!armed) return;
      kill_child(pid, group);
      std::error_code ignored;
      child.wait(ignored);
    }
  } reaper{child, pid, cmd.own_process_group};

  if (cmd.capture_output) {
    read_into(out_pipe, out);
    read_into(err_pipe, err);
  } else {
    out.eof = err.eof = true;
    out_pipe.close();
    err_pipe.close();
  }
  // Feed stdin asynchronously, then close it so the child sees EOF.
  auto stdin_buf = std::make_shared<std::string>(cmd.stdin_data);
  if (stdin_buf->empty()) {
    in_pipe.close();
  } else {
    boost::asio::async_write(in_pipe, boost::asio::buffer(*stdin_buf),
                             [&in_pipe, stdin_buf](const boost::system::error_code&, std::size_t) {
                               boost::system::error_code ignored;
                               in_pipe.close(ignored);
                             });
  }
  // The child's exit wakes the loop at once (a pidfd is readable when its process has exited).
  std::optional<boost::asio::posix::stream_descriptor> exit_fd;
  if (int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); pidfd >= 0) {
    exit_fd.emplace(ios, pidfd);
    exit_fd->async_wait(boost::asio::posix::stream_descriptor::wait_read, [](const boost::system::error_code&) {});
  }

  const auto deadline = t0 + cmd.timeout;
  std::optional<std::chrono::steady_clock::time_point> exited_at;
  bool killed = false, listed = false;
  for (;;) {
    ios.restart();
    ios.run_for(std::chrono::milliseconds(50));
    const auto now = std::chrono::steady_clock::now();
    if (!exited_at && has_exited(pid)) exited_at = now;
    if (exited_at && ((out.eof && err.eof) || now - *exited_at >= cmd.exit_grace)) break;
    if (!exited_at && !killed) {
      if (now >= deadline) res.timed_out = killed = true;
      else if (cmd.should_stop && cmd.should_stop()) res.stopped = killed = true;
      if (killed) kill_child(pid, cmd.own_process_group);
      else if (!listed && now - t0 >= std::chrono::seconds(1)) listed = ChildList::instance().add(pid);
    }
    // Nothing left for the loop to wait on (no pidfd, pipes done): poll the child gently.
    if (ios.stopped() && !exited_at) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The child has exited (not yet reaped, so its group id is still its own): end what it left.
  if (cmd.own_process_group) kill_child(pid, true);
  {
    boost::system::error_code ignored;
    in_pipe.close(ignored);
    out_pipe.close(ignored);
    err_pipe.close(ignored);
    if (exit_fd) exit_fd->close(ignored);
    ios.restart();
    ios.run();  // the cancelled reads and waits complete; nothing refers to this frame afterwards
  }
  reaper.armed = false;
  std::error_code wait_ec;
  child.wait(wait_ec);
  if (listed) ChildList::instance().remove(pid);
  out.trim();
  err.trim();
  res.out = std::move(out.data);
  res.err = std::move(err.data);
  res.out_dropped = out.dropped;
  res.err_dropped = err.dropped;
  const int native = child.native_exit_code();
  if (WIFSIGNALED(native)) {
    res.signal = WTERMSIG(native);
    res.exit_code = -1;
  } else if (WIFEXITED(native)) {
    res.exit_code = WEXITSTATUS(native);
  }
  if (killed) res.exit_code = -1;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::debug("exec: {} -> {} ({:.2f} s)", cmd.argv[0], res.brief(), res.seconds);
  return res;
}

void list_long_children_in(const std::string& path) { ChildList::instance().set_path(path); }

std::vector<std::pair<int, long long>> read_children_list(const std::string& path) {
  std::vector<std::pair<int, long long>> out;
  auto text = read_file(path);
  if (!text) return out;
  for (const auto& line : split_lines(*text)) {
    auto w = split_ws(line);
    if (w.size() != 2) continue;
    try {
      out.emplace_back(std::stoi(w[0]), std::stoll(w[1]));
    } catch (const std::exception&) {
    }
  }
  return out;
}

std::shared_ptr<CommandRunner> default_runner() {
  static auto runner = std::make_shared<ProcessRunner>();
  return runner;
}

CommandResult run_checked(CommandRunner& runner, const Command& cmd, const std::string& what) {
  CommandResult r = runner.run(cmd);
  if (!r.ok()) {
    throw Error(fmt::format("{}: `{}` {}", what, render_argv(cmd.argv), r.brief()));
  }
  return r;
}

}  // namespace wgopt
