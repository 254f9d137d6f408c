#pragma once
// Pid files of the iperf3 processes we start (client -I for early stop, server -D -I). A pid is
// only trusted while it still names the process we started, so a stale file can never make us
// signal an unrelated process that reused the pid.
#include <string>

namespace wgopt::workload {

// The pid in `path` (iperf3 writes decimal digits and a NUL) if that process is alive, its
// /proc/PID/comm is `comm`, and one of its argv entries equals `argv_entry` (we pass the pid file
// itself, which makes the match exact). 0 otherwise: no file, garbage, dead, or someone else.
int read_pidfile_of(const std::string& path, const std::string& comm, const std::string& argv_entry);

// True while /proc/PID exists and is not a zombie.
bool process_alive(int pid);

}  // namespace wgopt::workload
