#pragma once
// What the sampler measures, and the pure arithmetic over it: a Snapshot is one reading of every
// per-second source; diff_snapshots turns two into a SecondSample (counts are cumulative, so only
// deltas are reported); summarize turns a run into the Summary that the baseline table and the
// diagnosis rules read. No I/O here: tests feed hand-made snapshots.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/place.hpp"
#include "probes/ethtool_stats.hpp"
#include "probes/interrupts.hpp"
#include "probes/netdev.hpp"
#include "probes/proc_stat.hpp"
#include "probes/snmp.hpp"
#include "probes/softirqs.hpp"
#include "probes/softnet.hpp"
#include "probes/wireguard.hpp"

namespace wgopt::probes {

struct WatchedInterface {
  Place place;
  std::string name;
  bool operator==(const WatchedInterface&) const = default;
};
// "wgopt-uc" on the host, "wgopt-cli/wgopt-uc" in a namespace; for tables and messages.
std::string label(const WatchedInterface& w);

struct PlaceNet {
  Place place;
  Snmp snmp;
  std::map<std::string, IfaceCounters> dev;  // every interface of the namespace
};

struct Snapshot {
  std::chrono::steady_clock::time_point at;
  CpuStat cpu;
  Interrupts irqs;
  Softirqs softirqs;
  std::vector<SoftnetRow> softnet;
  std::vector<PlaceNet> net;  // one per distinct place watched
};

struct IrqDelta {
  std::string id;                 // "38"
  std::string action;             // "virtio2-input.0"
  IrqClass cls = IrqClass::Other;
  std::vector<int> cpus;          // CPU id of each per_cpu column
  std::vector<uint64_t> per_cpu;  // interrupts in the window, per CPU column
  uint64_t total = 0;
  int top_cpu = -1;               // CPU id with the most interrupts (-1 if none)
};

struct IfaceDelta {
  WatchedInterface iface;
  bool present = true;            // false: not in /proc/net/dev at one end of the window
  IfaceCounters delta;
  double rx_mbps = 0, tx_mbps = 0;  // from byte counters over the window, Mbit/s (10^6 bit/s)
};

struct NetDelta {
  Place place;
  UdpCounters udp;
  TcpCounters tcp;
};

struct SoftnetTotals {
  uint64_t processed = 0, dropped = 0, time_squeeze = 0, received_rps = 0, flow_limit = 0;
};

// One interval (about a second) of deltas.
struct SecondSample {
  double t = 0;         // seconds from the first snapshot to the end of this interval
  double seconds = 0;   // this interval's real length
  std::vector<CpuUsage> cpu;
  std::vector<int> softirq_cpus;           // CPU id per net_rx / net_tx entry
  std::vector<uint64_t> net_rx, net_tx;    // NET_RX / NET_TX softirqs raised, per CPU
  std::vector<SoftnetRow> softnet;         // per-CPU deltas (row.cpu is the CPU id)
  SoftnetTotals softnet_total;
  std::vector<IrqDelta> irqs;              // numbered IRQs that fired, largest first
  std::vector<IfaceDelta> ifaces;          // in the order they were watched
  std::vector<NetDelta> net;               // per place
};

// Deltas from `a` to `b` for the watched interfaces. t_end is b's time since the run started.
SecondSample diff_snapshots(const Snapshot& a, const Snapshot& b, const std::vector<WatchedInterface>& watched,
                            double t_end);

// Read once before and once after a run (they spawn a process: never per second).
struct BeforeAfter {
  std::map<std::string, EthtoolStats> ethtool_before, ethtool_after;  // by label(); absent: unsupported
  std::vector<WgInterface> wg_before, wg_after;  // only watched WireGuard interfaces
  int64_t wall_end = 0;                          // unix seconds at the end, for handshake ages
};

struct WgPeerSummary {
  std::string interface, public_key, endpoint;
  std::optional<int64_t> handshake_age_s;  // at the end of the run; nullopt: never
  uint64_t rx_bytes = 0, tx_bytes = 0;     // transferred during the run
};

struct IfaceSummary {
  WatchedInterface iface;
  bool present = true;
  IfaceCounters delta;                      // over the whole run
  double rx_mbps = 0, tx_mbps = 0;          // mean over the run
  double rx_mbps_peak = 0, tx_mbps_peak = 0;  // best single second
  std::optional<EthtoolStats> ethtool_delta;  // counters that moved, or nullopt if no ethtool -S
};

struct Summary {
  double seconds = 0;                 // first to last snapshot
  size_t samples = 0;                 // per-second samples
  std::vector<CpuUsage> cores;        // per-core percentages over the whole run
  int top_soft_cpu = -1;              // core with the highest mean %soft, and that %soft
  double top_soft_pct = 0;
  int top_sys_cpu = -1;               // core with the highest mean %sys, and that %sys
  double top_sys_pct = 0;
  double peak_soft_pct_1s = 0;        // highest %soft any core had in any single second
  SoftnetTotals softnet;              // over the run, all CPUs
  std::vector<SoftnetRow> softnet_per_cpu;
  double softnet_dropped_per_s = 0, softnet_squeeze_per_s = 0;
  std::vector<int> softirq_cpus;
  std::vector<uint64_t> net_rx, net_tx;   // per CPU over the run
  std::vector<IrqDelta> irqs;             // IRQs that fired, largest first
  std::optional<IrqDelta> hot_irq;        // the busiest NIC data-path IRQ (top_cpu: where it runs)
  std::vector<IfaceSummary> ifaces;
  std::vector<NetDelta> net;              // UDP / TCP deltas per place
  std::vector<WgPeerSummary> wg_peers;
  std::vector<std::string> warnings;      // what could not be read (one line each)
};

// Packets lost at the interfaces over the run, for the §7.1 table's "NIC drops" column: the kernel's
// rx_dropped + rx_missed + rx_fifo + tx_dropped of each watched interface, plus per interface the
// largest moved ethtool drop counter (drivers repeat one loss in a total and per-queue copies, so
// adding them would double count).
uint64_t interface_drops(const Summary& s);

// The run from `first` to `last` with its per-second samples. Throughput means come from the byte
// counters over the whole window, peaks from the seconds.
Summary summarize(const Snapshot& first, const Snapshot& last, const std::vector<SecondSample>& seconds,
                  const std::vector<WatchedInterface>& watched, const BeforeAfter& extra);

}  // namespace wgopt::probes
