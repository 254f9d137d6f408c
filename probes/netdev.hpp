#pragma once
// Interface counters, from /proc/net/dev (one read gives every interface of a namespace: what the
// sampler re-reads each second) or /sys/class/net/IF/statistics (separate missed/fifo counters).
// Caveat from the kernel's dev_seq_printf_stats: /proc/net/dev "drop" is rx_dropped +
// rx_missed_errors, so there rx_missed stays 0 and rx_dropped holds both.
#include <cstdint>
#include <map>
#include <string>

#include "common/files.hpp"

namespace wgopt::probes {

struct IfaceCounters {
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0, rx_fifo = 0, rx_missed = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0, tx_fifo = 0;
};

// after - before, each counter; a counter that went backwards (device re-created) gives 0.
IfaceCounters counters_delta(const IfaceCounters& before, const IfaceCounters& after);

// Interface name -> counters. Throws wgopt::Error naming `source` and the line for a row without
// "name:" or without 16 numbers.
std::map<std::string, IfaceCounters> parse_proc_net_dev(const std::string& text,
                                                        const std::string& source = "/proc/net/dev");

// Reads /sys/class/net/IFACE/statistics/* through `files` (a RootedFiles for the host or a fake
// tree, NetnsFiles for a namespace). Validates the name first (UsageError). Throws wgopt::Error
// naming the interface and the Files' place when it has no statistics directory or a file holds no
// number; counters a driver does not provide read 0.
IfaceCounters read_sys_statistics(Files& files, const std::string& iface);

}  // namespace wgopt::probes
