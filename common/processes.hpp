#pragma once
// Running processes by name, read from /proc only (no ps, no systemd): how irqbalance, TuneD and
// bpftune are found on a host (actuators/host_tuners.hpp) and how the diagnosis sees irqbalance.
#include <optional>
#include <string>
#include <vector>

#include "common/files.hpp"

namespace wgopt {

// PIDs (ascending) of the processes named `name` under `proc_root` (read through `files`): the
// kernel's name in PROC/PID/comm (the executable's first 15 characters), the basename of argv[0]
// in PROC/PID/cmdline, or, when argv[0] is an interpreter (python*, perl*, sh, bash), the basename
// of its script, the first argument that is not an option (TuneD runs as
// `python3 -Es /usr/sbin/tuned`). A process that exits while we read is skipped, and so is one that
// has exited and is not reaped yet (a zombie: state Z in PROC/PID/stat).
std::vector<int> pids_named(Files& files, const std::string& proc_root, const std::string& name);

// The pid of the process holding a flock on the file open as `fd` (from /proc/locks, read under
// `proc_root`); 0 when nobody holds one. Reading /proc/locks never touches the lock, so a look
// never makes someone's concurrent flock fail.
int flock_holder(int fd, const std::string& proc_root = "/proc");
// Every pid holding a flock on it (shared locks have several holders), in /proc/locks' order.
std::vector<int> flock_holders(int fd, const std::string& proc_root = "/proc");
// flock_holder of the file at `path` (opened read-only for the look); nullopt when nobody holds one
// or it cannot be opened. Closing that descriptor drops this process's POSIX locks on the file.
std::optional<int> flock_holder_of(const std::string& path);

}  // namespace wgopt
