#pragma once
// Thin readers: the parsers applied to the real files, with an injectable /proc root so tests run
// them on a fake tree. Host-wide files (/proc/stat, /proc/interrupts, /proc/softirqs,
// /proc/net/softnet_stat) come from ProcReader; a network namespace's own /proc/net files (snmp,
// dev) from NetReader, which opens them once inside the namespace (no process spawned) and
// re-reads the same descriptors: a /proc/net file stays bound to the namespace it was opened in.
#include <map>
#include <string>
#include <vector>

#include "common/place.hpp"
#include "probes/interrupts.hpp"
#include "probes/netdev.hpp"
#include "probes/proc_stat.hpp"
#include "probes/snmp.hpp"
#include "probes/softirqs.hpp"
#include "probes/softnet.hpp"

namespace wgopt::probes {

// Each call reads and parses one file. Throws wgopt::Error naming the path when it cannot be read,
// or the parser's error when it is malformed.
class ProcReader {
 public:
  explicit ProcReader(std::string proc_root = "/proc");
  CpuStat stat() const;
  Interrupts interrupts() const;
  Softirqs softirqs() const;
  std::vector<SoftnetRow> softnet() const;
  const std::string& proc_root() const { return root_; }

 private:
  std::string read(const std::string& rel) const;
  std::string root_;
};

class NetReader {
 public:
  // Opens PROC_ROOT/thread-self/net/{snmp,dev} in `place`'s namespace. Throws wgopt::Error when the
  // namespace or the files cannot be opened (the message names them).
  explicit NetReader(const Place& place, const std::string& proc_root = "/proc");
  ~NetReader();
  NetReader(const NetReader&) = delete;
  NetReader& operator=(const NetReader&) = delete;

  Snmp snmp() const;
  std::map<std::string, IfaceCounters> dev() const;
  const Place& place() const { return place_; }

 private:
  std::string read(int fd, const std::string& name) const;
  Place place_;
  int snmp_fd_ = -1;
  int dev_fd_ = -1;
};

}  // namespace wgopt::probes
