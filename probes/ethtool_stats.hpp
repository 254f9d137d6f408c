#pragma once
// `ethtool -S IFACE`: the driver's own counters. NIC-level drops (rx_missed, rx_no_buffer,
// rx_out_of_buffer, rx_discards_phy ...) show up only here, before the kernel ever sees the packet
// (guide §4.6, §5.1: the ring buffer is too small).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/place.hpp"

namespace wgopt::probes {

using EthtoolStats = std::map<std::string, uint64_t>;  // counter name -> value

// Parses the "NIC statistics:" block (names may contain spaces or brackets; the value follows the
// last ": "). Throws wgopt::Error naming `source` and the line for a line that is not "name: N".
EthtoolStats parse_ethtool_stats(const std::string& text, const std::string& source = "ethtool -S");

// True for counters that count lost or refused packets: names containing drop, miss, discard,
// no_buf / nobuf / out_of_buffer, error, fifo, timeout, or the word "err". Case-insensitive.
bool is_drop_counter(const std::string& name);
// Only the counters is_drop_counter keeps.
EthtoolStats drop_counters(const EthtoolStats& stats);
// after - before for every counter present in `after` (absent before: counted from 0; backwards: 0).
EthtoolStats stats_delta(const EthtoolStats& before, const EthtoolStats& after);

// Runs `ethtool -S IFACE` in `place`. Validates the name (UsageError). Returns nullopt when the
// driver has no statistics (ethtool exits non-zero with "no stats available": wireguard, tun);
// throws wgopt::Error when ethtool is missing or times out.
std::optional<EthtoolStats> read_ethtool_stats(CommandRunner& runner, const Place& place, const std::string& iface);

}  // namespace wgopt::probes
