#pragma once
// /proc/softirqs: NET_RX / NET_TX softirq counts per CPU (cumulative since boot; take deltas).
// NET_RX climbing on one CPU only is the software side of a single-queue / single-flow wall.
#include <cstdint>
#include <string>
#include <vector>

namespace wgopt::probes {

struct Softirqs {
  std::vector<int> cpus;          // CPU ids of the columns (header "CPU0 CPU1 ...")
  std::vector<uint64_t> net_rx;   // one per column
  std::vector<uint64_t> net_tx;
};

// Throws wgopt::Error naming `source` and the line for a missing header, a missing or repeated
// NET_RX/NET_TX row or a row whose count of numbers differs from the header's.
Softirqs parse_softirqs(const std::string& text, const std::string& source = "/proc/softirqs");

}  // namespace wgopt::probes
