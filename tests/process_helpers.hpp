#pragma once
// Helpers for tests that check what happens to processes: adopt orphans (so a grandchild's end can
// be observed and reaped here), wait for a pid to end, read the pids a fixture script recorded.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace wgopt::testproc {

// fork/exec of `argv` with stdout and stderr to `log`, for a test that must SIGKILL the child
// itself; -1 when fork fails.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// While alive, this process is a child subreaper: orphaned descendants are re-parented to it
// instead of to PID 1, so gone_within() can reap them and see their end.
struct Subreaper {
  Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }
};

// True once `pid` has ended (reaped here, or no longer signalable) within `limit`.
inline bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && ::kill(pid, 0) != 0)) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// True once every pid in `pids` has ended within `limit` (each waited for in turn).
inline bool all_gone_within(const std::vector<pid_t>& pids, std::chrono::milliseconds limit) {
  bool all = true;
  for (pid_t p : pids) all = gone_within(p, limit) && all;
  return all;
}

// Forks a process that plays wgopt. `body(fd)` runs in it and starts a child that writes its own
// pid to descriptor `fd` (`sh -c 'echo $$ >&FD; exec sleep 300'`); the process exits when body
// returns. Returns {the wgopt-like process, the child's pid}, once the child has reported.
inline std::pair<pid_t, pid_t> fork_with_child(const std::function<void(int fd)>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, -1};
  const pid_t parent = ::fork();
  if (parent == 0) {
    ::close(fds[0]);
    body(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[32] = {};
  const ssize_t n = parent > 0 ? ::read(fds[0], buf, sizeof buf - 1) : -1;
  ::close(fds[0]);
  return {parent, n > 0 ? static_cast<pid_t>(std::atoi(buf)) : -1};
}

// argv of a child for fork_with_child: reports its pid on `fd`, then sleeps 300 s.
inline std::vector<std::string> pid_reporting_sleeper(int fd) {
  return {"sh", "-c", "echo $$ >&" + std::to_string(fd) + "; exec sleep 300"};
}

// The pids a fixture appended to `path`, one per line.
inline std::vector<pid_t> pids_in(const std::string& path) {
  std::vector<pid_t> out;
  std::ifstream in(path);
  for (long p = 0; in >> p;) out.push_back(static_cast<pid_t>(p));
  return out;
}

// Reaps the child `pid` within `limit`, its wait status in `status`; false (and it is SIGKILLed
// and reaped, so no test leaks it) when it had not ended by then.
inline bool wait_exit(pid_t pid, std::chrono::milliseconds limit, int& status) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return false;
}

// Kills what a failed test left behind, so one failure does not leak processes into the next.
inline void kill_leftovers(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) {
    if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);  // ECHILD at once if it is not ours to reap
  }
}

}  // namespace wgopt::testproc
