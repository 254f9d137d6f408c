#include "common/exec.hpp"

#include <fcntl.h>
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
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

// Ends the process groups of own_process_group children when wgopt dies, even by SIGKILL or the
// OOM killer: PR_SET_PDEATHSIG reaches only a group's leader, not what it started in the background
// (found by an exploratory test: `kill -9` of `wgopt optimize` left its evaluator's helpers running).
// A small process forked the first time such a group starts reads the groups to watch from a pipe
// only wgopt writes; end of file means wgopt is gone, and it kills every group still listed.
class GroupReaper {
 public:
  static GroupReaper& instance() {
    static GroupReaper reaper;
    return reaper;
  }
  void watch(pid_t pgid) { send(static_cast<std::int32_t>(pgid)); }
  void forget(pid_t pgid) { send(-static_cast<std::int32_t>(pgid)); }
  // A normal exit: end of file tells it to end what is still listed (nothing, after run() returned),
  // and it is reaped here rather than left a zombie for init.
  ~GroupReaper() {
    {
      std::lock_guard lk(mu_);
      if (fd_ < 0) return;
      ::close(fd_);
      fd_ = -1;  // a late send() from another thread writes nowhere
    }
    for (int i = 0; i < 100 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i) ::usleep(5000);
  }

 private:
  GroupReaper() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      spdlog::debug("exec: no group reaper (pipe: {})", std::strerror(errno));
      return;
    }
    const pid_t pid = ::fork();
    if (pid == 0) run(fds[0]);
    ::close(fds[0]);
    if (pid < 0) {
      spdlog::debug("exec: no group reaper (fork: {})", std::strerror(errno));
      ::close(fds[1]);
      return;
    }
    fd_ = fds[1];
    pid_ = pid;
  }
  void send(std::int32_t v) {
    std::lock_guard lk(mu_);
    if (fd_ >= 0 && ::write(fd_, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) {
      spdlog::debug("exec: the group reaper is gone: {}", std::strerror(errno));
    }
  }
  // The forked child: async-signal-safe calls only (wgopt may have had other threads at the fork).
  [[noreturn]] static void run(int in) {
    ::prctl(PR_SET_NAME, "wgopt-reaper");
    // Not ended by the terminal's Ctrl-C or a hangup sent to wgopt's process group: it must outlive
    // wgopt by the moment it takes to end the groups, and it ends when wgopt does.
    for (int sig : {SIGINT, SIGQUIT, SIGTSTP, SIGHUP, SIGTERM, SIGPIPE}) ::signal(sig, SIG_IGN);
    // Holds no pipe of wgopt's or of its children open (their readers would wait for its end).
    if (in != 3) {
      ::dup2(in, 3);
      in = 3;
    }
    ::close_range(4, ~0U, 0);
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
    if (null > 2) ::close(null);
    constexpr int kMax = 1024;
    pid_t groups[kMax];
    int n = 0;
    for (;;) {
      std::int32_t v = 0;
      const ssize_t r = ::read(in, &v, sizeof v);
      if (r < 0 && errno == EINTR) continue;
      if (r != static_cast<ssize_t>(sizeof v)) break;  // end of file: wgopt is gone
      if (v > 0 && n < kMax) groups[n++] = v;
      for (int i = 0; v < 0 && i < n; ++i) {
        if (groups[i] == -v) groups[i--] = groups[--n];
      }
    }
    for (int i = 0; i < n; ++i) ::kill(-groups[i], SIGKILL);
    ::_exit(0);
  }
  std::mutex mu_;
  int fd_ = -1;
  pid_t pid_ = -1;
};

// Runs in the child between fork and exec (async-signal-safe calls only).
struct ChildSetup {
  pid_t parent;
  bool group, die_with_parent;
  bool stop_held;  // wgopt holds its stop signals (common/signals.hpp): a change to the host runs
  void operator()() const {
    // A command starts with the default signal state, whatever wgopt holds or ignores (a held
    // SIGTERM, common/signals.hpp; SIGPIPE, ignored by run()): a daemon it starts must stay stoppable.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    // ... except the terminal's, during a change: a Ctrl-C reaches the foreground process group,
    // and a `tc` it killed would undo the change instead of letting it finish.
    if (stop_held && die_with_parent) {  // a daemon leaves the terminal's session below: nothing to ignore for good
      for (int sig : {SIGINT, SIGQUIT, SIGHUP}) ::signal(sig, SIG_IGN);
    }
    // A daemon (it outlives wgopt on purpose) leaves wgopt's session: a Ctrl-C or hang-up of the
    // terminal reaches the foreground process group, wgopt's, which must not take the testbed's
    // wireguard-go with it (found by an exploratory test: it did, and the search still said its
    // values were restored). iperf3 -D and sshd do this themselves; wireguard-go does not.
    if (!die_with_parent) ::setsid();
    else if (group) ::setpgid(0, 0);
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // wgopt died before the line above took effect
    }
  }
};

// One started child and what run() keeps while it lives: the event loop, the three pipes, the two
// captures and the pidfd that wakes the loop when the child exits. The steps of run() in order:
// start, feed stdin, wait (until exit, timeout or stop), drain, collect.
class RunningChild {
 public:
  explicit RunningChild(const Command& cmd)
      : cmd_(cmd), in_(ios_), out_pipe_(ios_), err_pipe_(ios_), out_{.keep = cmd.keep_bytes, .tap = cmd.on_stdout}, err_{.keep = cmd.keep_bytes} {}
  RunningChild(const RunningChild&) = delete;
  RunningChild& operator=(const RunningChild&) = delete;
  // Unwinding (an exception from the loop) must not leave the child or its group running.
  ~RunningChild() {
    if (!started_ || reaped_) return;
    kill_child(pid_, cmd_.own_process_group);
    if (reaper_watches_) GroupReaper::instance().forget(pid_);
    std::error_code ignored;
    child_.wait(ignored);
  }

  void start(const std::string& exe) {
    std::vector<std::string> args(cmd_.argv.begin() + 1, cmd_.argv.end());
    sigset_t held;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &held);
    const ChildSetup setup{::getpid(), cmd_.own_process_group, cmd_.dies_with_wgopt, sigismember(&held, SIGINT) == 1};
    auto on_exec = bp::extend::on_exec_setup([setup](auto&) { setup(); });
    std::error_code ec;
    try {
      if (cmd_.capture_output) {
        child_ = bp::child(exe, bp::args(args), bp::std_in < in_, bp::std_out > out_pipe_, bp::std_err > err_pipe_, on_exec, ec);
      } else {
        child_ = bp::child(exe, bp::args(args), bp::std_in < in_, bp::std_out > bp::null, bp::std_err > bp::null, on_exec, ec);
      }
    } catch (const std::exception& e) {
      throw Error(fmt::format("cannot start {}: {}", render_argv(cmd_.argv), e.what()));
    }
    if (ec) throw Error(fmt::format("cannot start {}: {}", render_argv(cmd_.argv), ec.message()));
    pid_ = child_.id();
    started_ = true;
    if (cmd_.own_process_group && cmd_.dies_with_wgopt) {
      GroupReaper::instance().watch(pid_);
      reaper_watches_ = true;
    }
    if (cmd_.capture_output) {
      read_into(out_pipe_, out_);
      read_into(err_pipe_, err_);
    } else {
      out_.eof = err_.eof = true;
      out_pipe_.close();
      err_pipe_.close();
    }
    feed_stdin();
    // The child's exit wakes the loop at once (a pidfd is readable when its process has exited).
    if (int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)); pidfd >= 0) {
      exit_fd_.emplace(ios_, pidfd);
      exit_fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [](const boost::system::error_code&) {});
    }
  }

  // Runs the loop until the child has exited and its output is read (or exit_grace has passed),
  // killing it at the timeout or when should_stop says so. Marks `res` timed_out or stopped.
  void wait(std::chrono::steady_clock::time_point t0, CommandResult& res) {
    // At most a year: steady_clock counts nanoseconds, and t0 + 2562048 h overflowed into the past
    // (every trial of `optimize --timeout 2562048h` timed out at once).
    const auto deadline = t0 + std::min<std::chrono::milliseconds>(cmd_.timeout, std::chrono::hours(24 * 366));
    std::optional<std::chrono::steady_clock::time_point> exited_at;
    for (;;) {
      ios_.restart();
      ios_.run_for(std::chrono::milliseconds(50));
      const auto now = std::chrono::steady_clock::now();
      if (!exited_at && has_exited(pid_)) exited_at = now;
      if (exited_at && ((out_.eof && err_.eof) || now - *exited_at >= cmd_.exit_grace)) break;
      if (!exited_at && !killed_) {
        if (now >= deadline) res.timed_out = killed_ = true;
        else if (cmd_.should_stop && cmd_.should_stop()) res.stopped = killed_ = true;
        if (killed_) kill_child(pid_, cmd_.own_process_group);
        else if (!listed_ && now - t0 >= std::chrono::seconds(1)) listed_ = ChildList::instance().add(pid_);
      }
      // Nothing left for the loop to wait on (no pidfd, pipes done): poll the child gently.
      if (ios_.stopped() && !exited_at) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // After wait(): ends what the child left in its group, closes everything, reaps the child and
  // fills `res` with its output and exit status.
  void collect(CommandResult& res) {
    // The child has exited (not yet reaped, so its group id is still its own): end what it left.
    if (cmd_.own_process_group) kill_child(pid_, true);
    if (reaper_watches_) GroupReaper::instance().forget(pid_);  // before the reap frees the group id
    boost::system::error_code ignored;
    in_.close(ignored);
    out_pipe_.close(ignored);
    err_pipe_.close(ignored);
    if (exit_fd_) exit_fd_->close(ignored);
    ios_.restart();
    ios_.run();  // the cancelled reads and waits complete; nothing refers to this object afterwards
    std::error_code wait_ec;
    child_.wait(wait_ec);
    reaped_ = true;
    if (listed_) ChildList::instance().remove(pid_);
    out_.trim();
    err_.trim();
    res.out = std::move(out_.data);
    res.err = std::move(err_.data);
    res.out_dropped = out_.dropped;
    res.err_dropped = err_.dropped;
    const int native = child_.native_exit_code();
    if (WIFSIGNALED(native)) {
      res.signal = WTERMSIG(native);
      res.exit_code = -1;
    } else if (WIFEXITED(native)) {
      res.exit_code = WEXITSTATUS(native);
    }
    if (killed_) res.exit_code = -1;
  }

 private:
  // Feeds stdin asynchronously, then closes it so the child sees EOF.
  void feed_stdin() {
    auto buf = std::make_shared<std::string>(cmd_.stdin_data);
    if (buf->empty()) {
      in_.close();
      return;
    }
    boost::asio::async_write(in_, boost::asio::buffer(*buf), [this, buf](const boost::system::error_code&, std::size_t) {
      boost::system::error_code ignored;
      in_.close(ignored);
    });
  }

  const Command& cmd_;
  boost::asio::io_context ios_;
  bp::async_pipe in_, out_pipe_, err_pipe_;
  Capture out_, err_;
  std::optional<boost::asio::posix::stream_descriptor> exit_fd_;
  bp::child child_;
  pid_t pid_ = 0;
  bool started_ = false, reaped_ = false, killed_ = false, listed_ = false, reaper_watches_ = false;
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
  spdlog::debug("exec: {}", render_argv(cmd.argv));
  const auto t0 = std::chrono::steady_clock::now();
  RunningChild child(cmd);
  child.start(exe);
  child.wait(t0, res);
  child.collect(res);
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
