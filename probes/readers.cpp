#include "probes/readers.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/files.hpp"

namespace wgopt::probes {

ProcReader::ProcReader(std::string proc_root) : root_(std::move(proc_root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string ProcReader::read(const std::string& rel) const {
  const std::string path = root_ + "/" + rel;
  auto text = read_file(path);
  if (!text) throw Error(fmt::format("cannot read {}: is /proc mounted (and is this Linux)?", path));
  return *text;
}

CpuStat ProcReader::stat() const { return parse_proc_stat(read("stat"), root_ + "/stat"); }
Interrupts ProcReader::interrupts() const { return parse_interrupts(read("interrupts"), root_ + "/interrupts"); }
Softirqs ProcReader::softirqs() const { return parse_softirqs(read("softirqs"), root_ + "/softirqs"); }
std::vector<SoftnetRow> ProcReader::softnet() const {
  return parse_softnet_stat(read("net/softnet_stat"), root_ + "/net/softnet_stat");
}

NetReader::NetReader(const Place& place, const std::string& proc_root) : place_(place) {
  std::string root = proc_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  // thread-self, not self: /proc/self/net follows the main thread, which never enters a namespace.
  snmp_fd_ = open_in_netns(place.netns_name(), root + "/thread-self/net/snmp");
  try {
    dev_fd_ = open_in_netns(place.netns_name(), root + "/thread-self/net/dev");
  } catch (...) {
    ::close(snmp_fd_);
    throw;
  }
}

NetReader::~NetReader() {
  if (snmp_fd_ >= 0) ::close(snmp_fd_);
  if (dev_fd_ >= 0) ::close(dev_fd_);
}

std::string NetReader::read(int fd, const std::string& name) const {
  auto text = pread_all(fd);
  if (!text) throw Error(fmt::format("cannot re-read /proc/net/{} of {}: was the namespace deleted?", name,
                                     place_.describe()));
  return *text;
}

Snmp NetReader::snmp() const { return parse_snmp(read(snmp_fd_, "snmp"), "/proc/net/snmp of " + place_.describe()); }
std::map<std::string, IfaceCounters> NetReader::dev() const {
  return parse_proc_net_dev(read(dev_fd_, "dev"), "/proc/net/dev of " + place_.describe());
}

}  // namespace wgopt::probes
