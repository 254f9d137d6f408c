#pragma once
// Only one wgopt changes a host at a time: an exclusive flock on STATE_DIR/lock. The holder writes
// its pid into the file so a second wgopt can say who holds it. The kernel drops the lock when the
// holder dies (even by SIGKILL), so a stale lock file never blocks anyone.
#include <optional>
#include <string>

namespace wgopt::act {

class HostLock {
 public:
  // Creates `state_dir` if needed and takes the lock without waiting. Throws wgopt::Error
  // "another wgopt (pid N) is changing this host ..." when someone else holds it, or naming the
  // path and errno when the state dir cannot be used.
  static HostLock acquire(const std::string& state_dir);

  HostLock(HostLock&& other) noexcept;
  HostLock& operator=(HostLock&& other) noexcept;
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;
  ~HostLock();  // releases

  const std::string& path() const { return path_; }

 private:
  HostLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Who holds the HostLock of `state_dir` right now, without touching the lock (read from
// /proc/locks, so a probe never makes a concurrent acquire fail): the holder's pid, 0 when held by
// a process /proc/locks does not name, nullopt when nobody holds it (or there is no lock file).
std::optional<int> lock_holder(const std::string& state_dir);

// The state dir: $WGOPT_STATE_DIR if set (tests point it at a temporary dir so they never meet a
// real journal), else /var/lib/wgopt.
std::string state_dir();

// mkdir -p with mode 0700 (the journal holds the host's settings). Throws Error naming the path.
void ensure_dir(const std::string& dir);

}  // namespace wgopt::act
