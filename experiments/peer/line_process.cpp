#include "experiments/peer/line_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.hpp"
#include "common/exec.hpp"

namespace bp = boost::process;

namespace wgopt::peer {

namespace {
constexpr size_t kTailBytes = 8192;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// pipe2 with CLOEXEC: only the ends dup2'ed onto the child's 0/1/2 survive its exec.
std::pair<int, int> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  return {fds[0], fds[1]};
}
}  // namespace

LineProcess::LineProcess(Options options) : opt_(std::move(options)) {
  if (opt_.argv.empty()) throw Error("internal: empty command");
  // A child that exits before reading its stdin must not kill us with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  const std::string exe = find_executable(opt_.argv[0]);
  if (exe.empty()) throw Error(fmt::format("`{}` is not on PATH: install it", opt_.argv[0]));
  auto [in_r, in_w] = make_pipe();
  auto [out_r, out_w] = make_pipe();
  auto [err_r, err_w] = make_pipe();
  std::vector<std::string> args(opt_.argv.begin() + 1, opt_.argv.end());
  spdlog::debug("exec: {}", render_argv(opt_.argv));
  std::error_code ec;
  bp::child child(exe, bp::args(args),
                  bp::extend::on_exec_setup([in_r, out_w, err_w](auto&) {
                    ::dup2(in_r, 0);
                    ::dup2(out_w, 1);
                    ::dup2(err_w, 2);
                    ::setpgid(0, 0);
                  }),
                  ec);
  ::close(in_r);
  ::close(out_w);
  ::close(err_w);
  if (ec) {
    ::close(in_w);
    ::close(out_r);
    ::close(err_r);
    throw Error(fmt::format("cannot start {}: {}", render_argv(opt_.argv), ec.message()));
  }
  pid_ = child.id();
  child.detach();  // reaped by wait() / the destructor with waitpid
  in_fd_ = in_w;
  out_fd_ = out_r;
  err_fd_ = err_r;
  out_thread_ = std::thread([this] { read_stdout(); });
  err_thread_ = std::thread([this] { read_stderr(); });
}

LineProcess::~LineProcess() {
  kill();
  {
    std::lock_guard lk(write_mu_);
    close_fd(in_fd_);
  }
  wait(std::chrono::milliseconds(2000));
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
  close_fd(out_fd_);
  close_fd(err_fd_);
}

bool LineProcess::send(const std::string& line) {
  std::lock_guard lk(write_mu_);
  if (in_fd_ < 0) return false;
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(in_fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void LineProcess::close_stdin() {
  std::lock_guard lk(write_mu_);
  close_fd(in_fd_);
}

void LineProcess::kill() {
  std::lock_guard lk(exit_mu_);
  if (!exit_ && pid_ > 0) ::kill(pid_, SIGKILL);
}

std::optional<ExitStatus> LineProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lk(exit_mu_);
      if (exit_) return exit_;
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        ExitStatus s;
        if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
        exit_ = s;
        return exit_;
      }
      if (r < 0 && errno == ECHILD) {
        exit_ = ExitStatus{};
        return exit_;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string LineProcess::stderr_tail() {
  bool exited = false;
  {
    std::lock_guard lk(exit_mu_);
    exited = exit_.has_value();
  }
  std::unique_lock lk(err_mu_);
  if (exited) err_cv_.wait_for(lk, std::chrono::seconds(1), [&] { return err_done_; });
  return err_tail_;
}

void LineProcess::read_stdout() {
  LineFramer framer(opt_.max_line);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (auto& line : framer.feed(std::string_view(buf, static_cast<size_t>(n)))) {
      if (opt_.on_line) opt_.on_line(std::move(line));
    }
  }
  if (opt_.on_line) opt_.on_line(std::nullopt);
}

void LineProcess::read_stderr() {
  LineFramer framer(kTailBytes);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(err_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    {
      std::lock_guard lk(err_mu_);
      err_tail_.append(buf, static_cast<size_t>(n));
      if (err_tail_.size() > kTailBytes) err_tail_.erase(0, err_tail_.size() - kTailBytes);
    }
    for (auto& line : framer.feed(std::string_view(buf, static_cast<size_t>(n)))) {
      if (opt_.on_stderr && !line.oversized) opt_.on_stderr(line.text);
    }
  }
  std::lock_guard lk(err_mu_);
  err_done_ = true;
  err_cv_.notify_all();
}

}  // namespace wgopt::peer
