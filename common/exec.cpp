#include "common/exec.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
#include <cstdlib>
#include <fmt/format.h>
#include <future>
#include <mutex>
#include <spdlog/spdlog.h>

#include "common/error.hpp"

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
  std::future<std::string> out_f, err_f;
  bp::async_pipe in_pipe(ios);
  std::error_code ec;
  bp::child child;
  try {
    if (cmd.capture_output) {
      child = bp::child(exe, bp::args(args), bp::std_in < in_pipe, bp::std_out > out_f,
                        bp::std_err > err_f, ios, ec);
    } else {
      child = bp::child(exe, bp::args(args), bp::std_in < in_pipe, bp::std_out > bp::null,
                        bp::std_err > bp::null, ios, ec);
    }
  } catch (const std::exception& e) {
    throw Error(fmt::format("cannot start {}: {}", render_argv(cmd.argv), e.what()));
  }
  if (ec) throw Error(fmt::format("cannot start {}: {}", render_argv(cmd.argv), ec.message()));

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

  const auto deadline = t0 + cmd.timeout;
  bool killed = false;
  while (!ios.stopped()) {
    ios.run_for(std::chrono::milliseconds(50));
    if (ios.stopped()) break;
    if (!killed && std::chrono::steady_clock::now() >= deadline) {
      res.timed_out = true;
      killed = true;
    } else if (!killed && cmd.should_stop && cmd.should_stop()) {
      res.stopped = true;
      killed = true;
    }
    if (killed) {
      std::error_code kill_ec;
      if (child.running(kill_ec)) child.terminate(kill_ec);  // SIGKILL
      boost::system::error_code ignored;
      in_pipe.close(ignored);
      ios.run_for(std::chrono::milliseconds(500));  // drain whatever was already written
      break;
    }
  }
  std::error_code wait_ec;
  child.wait(wait_ec);
  if (cmd.capture_output) {
    if (out_f.valid() && out_f.wait_for(std::chrono::seconds(0)) == std::future_status::ready) res.out = out_f.get();
    if (err_f.valid() && err_f.wait_for(std::chrono::seconds(0)) == std::future_status::ready) res.err = err_f.get();
  }
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
