#pragma once
// /proc/stat: per-core CPU time, and the mpstat-style per-core percentages between two snapshots
// (the guide's §3.2: %soft pinned on one core while others idle is the classic single-queue wall).
#include <cstdint>
#include <string>
#include <vector>

namespace wgopt::probes {

// Jiffies (USER_HZ ticks) since boot, as the kernel prints them on a "cpuN" line.
struct CpuTimes {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  uint64_t guest = 0, guest_nice = 0;  // already included in user / nice: not added to total()
  uint64_t total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
};

struct CoreTimes {
  int cpu = 0;  // N of "cpuN" (offline CPUs are absent, so ids can have gaps)
  CpuTimes times;
};

struct CpuStat {
  CpuTimes all;                  // the aggregate "cpu" line
  std::vector<CoreTimes> cores;  // "cpuN" lines in file order
};

// Parses /proc/stat text. Lines other than cpu* (intr, ctxt, softirq ...) are ignored.
// Throws wgopt::Error naming `source` and the line when a cpu line is malformed or none exists.
CpuStat parse_proc_stat(const std::string& text, const std::string& source = "/proc/stat");

// Percent of one core's time between two snapshots. The seven parts sum to 100 (or all are 0 when
// no tick passed). usr includes nice; idle excludes iowait (like mpstat).
struct CpuUsage {
  int cpu = 0;
  double usr = 0, sys = 0, soft = 0, irq = 0, iowait = 0, steal = 0, idle = 0;
  uint64_t ticks = 0;  // jiffies elapsed on this core; 0 means the percentages carry no information
};

CpuUsage cpu_usage_between(const CpuTimes& before, const CpuTimes& after, int cpu);
// Per core present in both snapshots, ordered by cpu id. A counter that went backwards counts as 0.
std::vector<CpuUsage> cpu_usage_between(const CpuStat& before, const CpuStat& after);

}  // namespace wgopt::probes
