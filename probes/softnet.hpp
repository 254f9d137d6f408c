#pragma once
// /proc/net/softnet_stat: one row per online CPU, hex columns. Column 2 (dropped) climbing means the
// per-CPU backlog overflowed (netdev_max_backlog, typically after RPS), column 3 (time_squeeze)
// means the softirq ran out of budget with work left (netdev_budget / netdev_budget_usecs).
// Layouts: 10 columns (< 2.6.33), 11 (flow_limit), 13 (5.10: backlog length and CPU index),
// 15 (6.x: input and process queue lengths). Without the index column the row number is the CPU,
// which is only right when no CPU is offline.
#include <cstdint>
#include <string>
#include <vector>

namespace wgopt::probes {

struct SoftnetRow {
  int cpu = 0;
  uint64_t processed = 0;      // column 1: packets handled by this CPU's softirq
  uint64_t dropped = 0;        // column 2: backlog (input_pkt_queue) overflow drops
  uint64_t time_squeeze = 0;   // column 3: net_rx_action left work because budget or time ran out
  uint64_t received_rps = 0;   // column 10: packets steered to this CPU by RPS (IPIs)
  uint64_t flow_limit = 0;     // column 11: flow-limit drops
};

// Throws wgopt::Error naming `source` and the line for a non-hex value or fewer than 3 columns.
std::vector<SoftnetRow> parse_softnet_stat(const std::string& text,
                                           const std::string& source = "/proc/net/softnet_stat");

}  // namespace wgopt::probes
