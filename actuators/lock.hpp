#pragma once
// Only one wgopt changes a host at a time: an exclusive flock(2) on RUN_DIR/host.lock. The run dir
// is per host, not per state dir: a `set` with another WGOPT_STATE_DIR changes the same kernel, so
// it waits for the same lock. The kernel drops the lock when the holder dies (even by SIGKILL), so
// a stale lock file never blocks anyone.
//
// Who holds it comes from the kernel, not from the file: /proc/locks lists every flock with the
// pid of the process that took it, so a refusal names the holder at that moment. (A pid written
// into the file after locking and cleared before unlocking left windows in which a refusal said
// "unknown pid".) The lock never writes: an existing lock file is opened read-only, so a full or
// read-only run dir still locks, and `wgopt rollback` works wherever the journal can be read.
#include <optional>
#include <string>
#include <vector>

#include "common/processes.hpp"

namespace wgopt::act {

class HostLock {
 public:
  // Creates `run_dir` if needed and takes the lock on run_dir/host.lock without waiting. Throws
  // wgopt::Error "another wgopt (pid N) is changing this host ..." when someone else holds it, or
  // naming the path and errno when the run dir cannot be used.
  static HostLock acquire(const std::string& run_dir);
  // The same lock on a state dir (its directory, flock'd): two wgopts with one journal and
  // different run dirs lost a journal entry (found by an exploratory test). Holds nothing when the
  // directory does not exist yet.
  static HostLock acquire_state_dir(const std::string& state_dir);

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

using wgopt::flock_holder;   // common/processes.hpp
using wgopt::flock_holders;
// Who holds the HostLock of `run_dir` right now, without touching the lock (so a probe never makes
// a concurrent acquire fail): the holder's pid, nullopt when nobody holds it or there is no lock file.
std::optional<int> lock_holder(const std::string& run_dir);

// The state dir: $WGOPT_STATE_DIR if set (tests point it at a temporary dir so they never meet a
// real journal), else /var/lib/wgopt.
std::string state_dir();

// The run dir, where the host lock lives: $WGOPT_RUN_DIR if set (an emulated host on this machine,
// such as a peer's agent in a testbed namespace, uses its own), else /run/wgopt.
std::string run_dir();

// mkdir -p with mode 0700 (the journal holds the host's settings). Throws Error naming the path.
void ensure_dir(const std::string& dir);

}  // namespace wgopt::act
