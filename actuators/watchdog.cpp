#include "actuators/watchdog.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <fstream>
#include <thread>

#include "actuators/host.hpp"
#include "actuators/lock.hpp"
#include "actuators/restore.hpp"
#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "actuators/restore_log.hpp"

namespace bp = boost::process;

namespace wgopt::act {

namespace {

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void write_atomic(const std::string& path, const std::string& content) { write_file_atomic(path, content, 0600); }

void log_line(const std::string& state_dir, const std::string& line) {
  try {
    trim_log(state_dir + "/watchdog.log");  // found by an exploratory test: it grew a line a search, 35 a restore, for good
  } catch (const std::exception&) {
  }
  std::ofstream out(state_dir + "/watchdog.log", std::ios::app);
  auto t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  out << stamp << " pid " << ::getpid() << ": " << line << "\n";
}

// A zombie parent (dead, not yet reaped) holds no lock and does nothing: process_alive counts it
// as dead.
bool parent_alive(int pid, long long start_time) { return process_alive(pid, start_time); }

int restore(const GuardianOptions& o, const std::string& why) {
  const std::string& state_dir = o.state_dir;
  for (const auto& line : end_listed_children(o.children_path)) log_line(state_dir, line);
  log_line(state_dir, why + ": restoring the journal");
  // The dead process's flock is gone with it; retry briefly in case the kernel is still closing it.
  for (int attempt = 0; attempt < 50; ++attempt) {
    try {
      act::ChangeSession session(state_dir, act::default_knob_lookup(), {.run_dir = o.run_dir});
      const auto& report = session.startup();
      for (const auto& item : report.items) log_line(state_dir, item.line());
      if (report.empty()) log_line(state_dir, "nothing was applied: nothing to restore");
      if (!report.empty()) {
        append_restore_record(state_dir, {.at_ms = unix_ms(), .pid = ::getpid(), .by = "guardian", .why = why, .report = report});
      }
      return report.ok() ? 0 : 1;
    } catch (const Error& e) {
      if (attempt == 49) {
        log_line(state_dir, std::string("restore failed: ") + e.what());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return 1;
}

}  // namespace

std::string self_exe_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  buf[n] = 0;
  return buf;
}

std::vector<std::string> end_listed_children(const std::string& children_path) {
  std::vector<std::string> lines;
  if (children_path.empty()) return lines;
  for (const auto& [pid, start] : read_children_list(children_path)) {
    // Dead already (a zombie nobody reaped counts as dead), or the pid now belongs to another.
    if (pid <= 1 || !process_alive(pid, start)) continue;
    const std::string comm = trim(read_file(fmt::format("/proc/{}/comm", pid)).value_or("?"));
    if (::kill(pid, SIGKILL) == 0) lines.push_back(fmt::format("ended {} (pid {}) that wgopt left running", comm, pid));
  }
  ::unlink(children_path.c_str());
  return lines;
}

Watchdog Watchdog::start(const std::string& wgopt_exe, const std::string& state_dir) {
  const int self = ::getpid();
  const std::string lease = fmt::format("{}/watchdog-{}.lease", state_dir, self);
  const std::string children = fmt::format("{}/watchdog-{}.children", state_dir, self);
  ::mkdir(state_dir.c_str(), 0700);
  write_atomic(lease, "idle\n");
  std::error_code ec;
  bp::child child(wgopt_exe,
                  bp::args({"__watchdog", "--pid", std::to_string(self), "--start-time",
                            std::to_string(process_start_time(self)), "--lease", lease, "--state-dir", state_dir,
                            "--run-dir", act::run_dir(), "--children", children}),
                  bp::std_in < bp::null, bp::std_out > bp::null, bp::std_err > bp::null,
                  // Its own session: a Ctrl-C or SIGTERM to wgopt's process group must not reach it.
                  bp::extend::on_exec_setup([](auto&) { ::setsid(); }), ec);
  if (ec) throw Error(fmt::format("cannot start the watchdog {}: {}", wgopt_exe, ec.message()));
  int pid = child.id();
  child.detach();
  list_long_children_in(children);  // what the guardian ends if wgopt dies mid-measurement
  return Watchdog(pid, lease, wgopt_exe, state_dir);
}

Watchdog::Watchdog(Watchdog&& other) noexcept
    : pid_(other.pid_), lease_(std::move(other.lease_)), exe_(std::move(other.exe_)), state_dir_(std::move(other.state_dir_)) {
  other.pid_ = 0;
}

Watchdog::~Watchdog() {
  try {
    stop();
  } catch (...) {
  }
}

void Watchdog::write_lease(const std::string& content) {
  if (pid_ == 0) return;
  write_atomic(lease_, content);
}

bool Watchdog::gone() const {
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);  // our child: reaped here once it has exited
  return r == pid_ || (r < 0 && errno == ECHILD);  // reaped already (or never ours): not a pid to trust
}

void Watchdog::arm(std::chrono::milliseconds deadline) {
  if (pid_ != 0 && gone()) {
    const int old = pid_;
    ::unlink(lease_.c_str());
    pid_ = 0;  // a start() that throws stops the search here: nothing names a reaped pid
    Watchdog fresh = start(exe_, state_dir_);
    pid_ = fresh.pid_;
    lease_ = fresh.lease_;
    fresh.pid_ = 0;  // it is ours now
    spdlog::warn("the guardian (pid {}) was gone; started another (pid {}) before applying a candidate", old, pid_);
  }
  write_lease(fmt::format("armed {}\n", now_ms() + deadline.count()));
}

void Watchdog::disarm() { write_lease("idle\n"); }

void Watchdog::stop() {
  if (pid_ == 0) return;
  list_long_children_in("");
  write_lease("exit\n");
  // Reap it so it does not linger as a zombie of ours.
  for (int i = 0; i < 50; ++i) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::unlink(lease_.c_str());
  pid_ = 0;
}

int run_guardian(const GuardianOptions& o) {
  const int parent_pid = o.parent_pid;
  log_line(o.state_dir, fmt::format("guarding wgopt pid {}", parent_pid));
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::string lease = trim(read_file(o.lease_path).value_or("exit"));
    if (lease == "exit") {
      ::unlink(o.lease_path.c_str());
      return 0;
    }
    if (!parent_alive(parent_pid, o.parent_start_time)) {
      int rc = restore(o, fmt::format("wgopt pid {} died", parent_pid));
      ::unlink(o.lease_path.c_str());
      return rc;
    }
    if (lease.starts_with("armed ")) {
      long long deadline = 0;
      try {
        deadline = std::stoll(lease.substr(6));
      } catch (...) {
        deadline = 0;
      }
      if (now_ms() > deadline) {
        log_line(o.state_dir, fmt::format("wgopt pid {} did not confirm its candidate in time: killing it", parent_pid));
        ::kill(parent_pid, SIGKILL);
        for (int i = 0; i < 100 && parent_alive(parent_pid, o.parent_start_time); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        int rc = restore(o, fmt::format("lease of wgopt pid {} expired", parent_pid));
        ::unlink(o.lease_path.c_str());
        return rc;
      }
    }
  }
}

}  // namespace wgopt::act
